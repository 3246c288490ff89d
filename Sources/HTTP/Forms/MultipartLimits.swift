/// Bounds on what a `multipart/form-data` body may contain, so a hostile upload costs little.
public struct MultipartLimits: Sendable, Equatable {
    /// The most parts accepted.
    public var maxParts = 100
    /// The most bytes of header lines in one part, CRLFs included, the closing blank line not.
    public var maxPartHeaderBytes = 8 * 1024
    /// The most bytes the whole body may have.
    public var maxTotalBytes: Int

    /// Makes limits; only the total size has no sensible default.
    public init(maxParts: Int = 100, maxPartHeaderBytes: Int = 8 * 1024, maxTotalBytes: Int) {
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
        self.maxTotalBytes = maxTotalBytes
    }
}
