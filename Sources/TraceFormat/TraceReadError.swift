/// Why a trace cannot be read at all. Each case says where and what was expected, in one line;
/// the CLI prefixes the file name and exits with status 2.
public enum TraceReadError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(reason: String)
    case readFailed(offset: UInt64, reason: String)
    case empty
    /// The file is shorter than the 16-byte header.
    case truncatedHeader(size: Int)
    /// The first bytes are not the trace magic; `looksLike` names what they resemble, when known.
    case notATrace(looksLike: String?)
    case unsupportedVersion(major: UInt16, minor: UInt16)
    case stringTableTooLarge(offset: UInt64)

    public var description: String {
        switch self {
        case let .cannotOpen(reason): "cannot open: \(reason)"
        case let .readFailed(offset, reason): "read failed at byte \(offset): \(reason)"
        case .empty: "empty file, not a trace"
        case let .truncatedHeader(size): "not a trace: only \(size) bytes, shorter than the 16-byte header"
        case let .notATrace(looksLike?): "not a trace: this looks like \(looksLike) (expected the bytes \\x89CTRACE\\n at byte 0)"
        case .notATrace(nil): "not a trace: expected the bytes \\x89CTRACE\\n at byte 0"
        case let .unsupportedVersion(major, minor):
            "unsupported trace format version \(major).\(minor): this reader understands \(TraceLayout.majorVersion).x"
        case let .stringTableTooLarge(offset):
            "string table exceeds \(TraceLayout.maxStringCount) strings or \(TraceLayout.maxStringTableBytes >> 20) MiB at byte \(offset)"
        }
    }
}

/// Something the reader noticed and recovered from. The events it yields are everything that could be read.
public enum ReadNotice: CustomStringConvertible, Equatable, Sendable {
    /// The file ends inside a chunk: everything before `offset` was read.
    case truncated(offset: UInt64)
    /// The file ends on a chunk boundary without the recorder's close record (the process stopped early).
    case notClosed(offset: UInt64)
    /// The chunk at `offset` failed its checks and was skipped; reading went on at the next chunk.
    case corruptChunk(offset: UInt64, reason: String)
    /// A record in the chunk at `offset` could not be decoded; the rest of that chunk was skipped.
    case malformedRecord(chunkOffset: UInt64, payloadOffset: Int, reason: String)
    /// Records of kinds this reader does not know (from a newer minor version) were skipped.
    case skippedUnknownKind(kind: UInt8, count: Int)
    /// Timestamps in the chunk at `offset` went backwards; they were raised to the previous time.
    case timeWentBackwards(chunkOffset: UInt64)
    /// The file was written by a newer minor version; unknown kinds will be skipped.
    case newerMinorVersion(major: UInt16, minor: UInt16)

    /// Whether data was lost to damage (as opposed to an early stop or a newer writer). The CLI exits 2 for these.
    public var isDamage: Bool {
        switch self {
        case .corruptChunk, .malformedRecord: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case let .truncated(offset):
            "truncated: the file ends inside the chunk at byte \(offset); everything before it was read"
        case let .notClosed(offset):
            "truncated: the trace was not closed by its recorder (process stopped early?); read \(offset) bytes"
        case let .corruptChunk(offset, reason):
            "corrupt chunk at byte \(offset): \(reason); skipped it and read on"
        case let .malformedRecord(chunkOffset, payloadOffset, reason):
            "malformed record in the chunk at byte \(chunkOffset) (payload byte \(payloadOffset)): \(reason); skipped the rest of that chunk"
        case let .skippedUnknownKind(kind, count):
            "skipped \(count) record\(count == 1 ? "" : "s") of unknown kind 0x\(String(kind, radix: 16)) (written by a newer recorder)"
        case let .timeWentBackwards(chunkOffset):
            "timestamps went backwards in the chunk at byte \(chunkOffset); raised them to the previous time"
        case let .newerMinorVersion(major, minor):
            "written by format version \(major).\(minor), newer than this reader's \(TraceLayout.majorVersion).\(TraceLayout.minorVersion); unknown records are skipped"
        }
    }
}
