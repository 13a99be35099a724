// libFuzzer's driver, shared by the fuzz targets. SwiftPM renames an executable's `main` to
// `<module>_main`, so each target exports that symbol itself (it must be named after its module)
// and hands its input callback to `runFuzzer`.

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer with the process arguments and `callback` as the test function.
public func runFuzzer(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// `precondition` that keeps its message in optimised builds (`-O` drops precondition texts; the
/// fuzz targets are built with `-O`, and a finding without its text is hard to read).
/// Inlinable, so that a passing check costs a comparison in the target instead of a call into this module
/// with the message's closure context on the (ASan) stack.
@inlinable @inline(__always)
public func require(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #file,
    line: UInt = #line
) {
    if !condition { fatalError("invariant violated: \(message())", file: file, line: line) }
}
