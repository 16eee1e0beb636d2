// Package book keeps the per-product level-2 order books and ticker state.
//
// A Market applies normalized model.Updates (single writer per product), rejects
// what would corrupt a book (a crossing change, the removal of an unknown
// level), and publishes the product's Event stream: the boundary to fanout.
// Package book starts no goroutines.
package book
