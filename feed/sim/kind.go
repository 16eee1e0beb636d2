package sim

// Kind is the feed kind a configuration names to run the simulator.
const Kind = "simulator"
