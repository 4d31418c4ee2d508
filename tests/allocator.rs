//! The binary's allocator setup: SQLite's own allocations go through mimalloc too. Its own
//! test binary, because SQLite takes the hooks only before its first connection in a process.

#[test]
fn sqlite_allocates_through_mimalloc_once_configured() {
    sipmirror::allocator::configure();
    let conn = rusqlite::Connection::open_in_memory().expect("connection");
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(1000));")
        .expect("statements");
    // SAFETY: a plain allocation and its release through SQLite's public API.
    unsafe {
        let block = rusqlite::ffi::sqlite3_malloc(100);
        assert!(!block.is_null());
        assert!(
            libmimalloc_sys::mi_is_in_heap_region(block),
            "SQLite allocated outside mimalloc"
        );
        rusqlite::ffi::sqlite3_free(block);
    }
}
