import Foundation

/// Names the calling thread as `top -H`, `ps -L` and `perf` show it (at most 15 bytes).
/// Foundation's `Thread.name`, set before `start()`, never reaches the OS thread on Linux,
/// and Glibc's `pthread_setname_np` is not visible from Swift; the thread's `comm` file is.
package func nameCurrentThread(_ name: String) {
    try? String(decoding: name.utf8.prefix(15), as: UTF8.self).write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
}
