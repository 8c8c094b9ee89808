// Package storetest is the conformance suite of store.Store: every backend
// runs Run with a Factory of its own, so that all of them keep the same
// contract (IDs, paging, idempotent retries, concurrency, persistence,
// errors), and Bench for comparable throughput figures.
//
//	func TestStore(t *testing.T) { storetest.Run(t, factory) }
//	func BenchmarkStore(b *testing.B) { storetest.Bench(b, factory) }
package storetest
