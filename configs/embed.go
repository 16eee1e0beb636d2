// Package configs holds tickerfan's shipped configuration files. default.yaml
// is embedded in the binary, so tickerfan runs with no file and no network.
package configs

import _ "embed"

// Default is configs/default.yaml: the simulated market on 127.0.0.1:8080.
//
//go:embed default.yaml
var Default []byte
