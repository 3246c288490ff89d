import Glibc

/// What every fuzz target's `main` does: hand control to libFuzzer's driver in a fuzzing build
/// (`-sanitize=fuzzer -D FUZZING`; SwiftPM renames an executable's main, so libFuzzer's own
/// main cannot be used), or replay the files given as arguments in a normal build.
public enum FuzzDriver {
    #if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    static func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// Runs libFuzzer with `callback` (the target's `LLVMFuzzerTestOneInput`).
    public static func run(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, callback))
    }
    #endif

    /// Runs each file named on the command line through `exercise`; exits 1 naming a file that
    /// cannot be read.
    public static func replay(_ name: String, _ exercise: ([UInt8]) -> Void) -> Never {
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("\(name): cannot open \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[0..<count]
            }
            fclose(file)
            exercise(bytes)
        }
        print("\(name): replayed \(CommandLine.arguments.count - 1) inputs")
        exit(0)
    }
}
