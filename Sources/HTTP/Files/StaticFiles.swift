import Glibc
import Workers

/// Serves the files below a folder (`Public/`), with validators and caching headers.
///
/// - Paths are resolved segment by segment: `..`, `.`, hidden names (leading dot) and NUL are
///   refused with 404, and the resolved real path must stay inside the folder, so neither
///   `%2e%2e` nor a symbolic link can reach outside it.
/// - `ETag` (size and modification time) with `If-None-Match`, and `Last-Modified` with
///   `If-Modified-Since`, answer 304 (RFC 9110 section 13).
/// - Contents and their gzip form are cached in memory and re-read when the file changes, so
///   the handler can run on the event loop: one `stat` per request.
public final class StaticFiles: Sendable {
    public let root: String
    /// The `Cache-Control` value sent with every file.
    public let cacheControl: String
    /// Files larger than this are not served (the web app's assets are small).
    public let maxFileBytes: Int

    private struct Entry: Sendable {
        var size: Int
        var modified: Int
        var modifiedNanoseconds: Int
        var bytes: [UInt8]
        var gzipped: [UInt8]?
        var etag: String
        var contentType: String
    }
    private let cache = Locked<[String: Entry]>([:])

    /// - Parameter root: the folder to serve; resolved to its real path now.
    public init(root: String, cacheControl: String = "public, max-age=300", maxFileBytes: Int = 16 * 1024 * 1024) throws(SocketError) {
        guard let resolved = realpath(root, nil) else { throw SocketError("realpath(\(root))") }
        defer { free(resolved) }
        self.root = String(cString: resolved)
        self.cacheControl = cacheControl
        self.maxFileBytes = maxFileBytes
    }

    /// A handler for a route ending in a wildcard, e.g. `router.get("/static/*file", execution: .loop, files.handler(parameter: "file"))`.
    public func handler(parameter: String) -> HTTPHandler {
        { [self] request, context in try serve(path: context.parameters[parameter] ?? "", request: request) }
    }

    /// The response for a relative path below `root`.
    public func serve(path: String, request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let notFound = HTTPError(.notFound, "There is no file at \(request.path).")
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.utf8.contains(0) && !$0.contains("\\") }) else {
            throw notFound
        }
        let full = root + "/" + segments.joined(separator: "/")
        guard let resolvedPointer = realpath(full, nil) else { throw notFound }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard resolved.hasPrefix(root + "/") else { throw notFound }
        var info = stat()
        guard stat(resolved, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw notFound }
        guard Int(info.st_size) <= maxFileBytes else { throw HTTPError(.contentTooLarge, "This file is too large to serve.") }

        let entry = try entry(for: resolved, info: info)
        var headers: HTTPHeaders = [
            "Content-Type": entry.contentType, "ETag": entry.etag, "Last-Modified": HTTPDate.format(entry.modified),
            "Cache-Control": cacheControl,
        ]
        if notModified(request, entry) {
            return HTTPResponse(status: .notModified, headers: headers, body: .bytes([]))
        }
        if let gzipped = entry.gzipped {
            headers.add("Vary", "Accept-Encoding")
            if request.acceptsGzip {
                headers.add("Content-Encoding", "gzip")
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(gzipped))
            }
        }
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(entry.bytes))
    }

    /// RFC 9110 section 13.2.2: If-None-Match decides when present; otherwise If-Modified-Since.
    private func notModified(_ request: HTTPRequest, _ entry: Entry) -> Bool {
        if let match = request.headers["If-None-Match"] {
            return match.split(separator: ",").contains { tag in
                let tag = tag.trimmingSpaces
                return tag == "*" || tag == entry.etag || tag == "W/" + entry.etag
            }
        }
        if let since = request.headers["If-Modified-Since"].flatMap(HTTPDate.parse) {
            return entry.modified <= since
        }
        return false
    }

    private func entry(for path: String, info: stat) throws(HTTPError) -> Entry {
        let size = Int(info.st_size)
        let modified = Int(info.st_mtim.tv_sec)
        let nanoseconds = Int(info.st_mtim.tv_nsec)
        if let cached = cache.withLock({ $0[path] }), cached.size == size, cached.modified == modified,
           cached.modifiedNanoseconds == nanoseconds {
            return cached
        }
        guard let bytes = Self.read(path, size: size) else { throw HTTPError(.notFound, "The file could not be read.") }
        let contentType = MIMEType.forFile(path)
        let gzipped = ResponseEncoder.isCompressible(contentType) && bytes.count >= 860
            ? ResponseEncoder.gzip(bytes, level: 9).flatMap { $0.count < bytes.count ? $0 : nil } : nil
        let entry = Entry(
            size: size, modified: modified, modifiedNanoseconds: nanoseconds, bytes: bytes, gzipped: gzipped,
            etag: "\"\(String(size, radix: 16))-\(String(modified, radix: 16))\(String(nanoseconds, radix: 16))\"",
            contentType: contentType)
        cache.withLock { $0[path] = entry }
        return entry
    }

    private static func read(_ path: String, size: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + offset, size - offset, off_t(offset)) }
            guard count > 0 else { return nil }
            offset += count
        }
        return bytes
    }
}
