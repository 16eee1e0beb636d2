// Package sim is tickerfan's built-in market simulator, the default upstream:
// deterministic for a seed, on each product's price and size grid, emitting
// model.Updates (snapshots, level-2 changes, trades) like a live exchange.
package sim
