import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a child process to completion with posix_spawn and waitpid. Foundation's `Process` missed the
/// exit of `pg_ctl` here (left a zombie and waited forever) and inherits our blocked-signal mask;
/// this does neither: the child gets default signal handling and an empty mask.
public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Runs `arguments[0]` (an absolute path) in `/`, with stdin from /dev/null and stdout+stderr
    /// appended to `outputPath`. Returns the exit status (128+signal when killed).
    public static func run(_ arguments: [String], environment: [String: String], outputPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // `env -C /` starts the command in `/` (posix_spawn's addchdir is a GNU extension Swift cannot see).
        let arguments = ["/usr/bin/env", "-C", "/"] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw Failure(description: "could not start \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid failed: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros; decode the status word by hand.
        let termSignal = status & 0x7f
        return termSignal == 0 ? (status >> 8) & 0xff : 128 + termSignal
    }
}
