// Package deploy holds deployment examples for tickerfan (the nginx
// configuration that puts TLS in front of it) and the tests that prove
// them against the real software. It has no Go API.
package deploy
