import CLinux
import Glibc

/// How a long-running process keeps its size steady under glibc's malloc.
///
/// glibc gives each thread that allocates at the same time an arena of its own, up to eight per
/// core, and keeps freed memory in them. A server that builds pages of a hundred kilobytes on
/// sixteen worker threads then grows for hours although its live heap stays the same (a heap
/// profile of the soak showed 6 to 16 MB live while the process grew by 12 MB a minute).
/// One arena per core, and the free memory handed back every `memoryReturnInterval` seconds
/// (`HTTPServerConfiguration`), keep it flat.
public enum ProcessMemory {
    /// One malloc arena per core, unless `MALLOC_ARENA_MAX` says otherwise. Call at start,
    /// before other threads exist.
    public static func limitArenas(to count: Int = HTTPServerConfiguration.coreCount) {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        csys_malloc_arena_max(Int32(max(2, count)))
    }

    /// Hands free memory in every arena back to the system.
    public static func returnFree() {
        _ = csys_malloc_trim()
    }
}
