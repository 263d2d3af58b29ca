/// Splits a byte stream into lines, refusing lines over a size limit without buffering them.
///
/// Tracks how many bytes and lines were consumed through the last complete line, which is
/// the position a tailed file resumes from.
public struct LineFramer: Sendable {
    /// The longest line accepted, in bytes (without the newline).
    public let maxLineBytes: Int
    /// Bytes consumed through the end of the last complete line (starts at the resume offset).
    public private(set) var consumedOffset: Int64
    /// Complete lines consumed so far (starts at the resume line count).
    public private(set) var lineNumber: Int64

    private var pending: [UInt8] = []
    private var discardedBytes: Int?

    /// Creates a framer resuming at `offset` after `lineNumber` lines.
    public init(maxLineBytes: Int, offset: Int64 = 0, lineNumber: Int64 = 0) {
        self.maxLineBytes = maxLineBytes
        self.consumedOffset = offset
        self.lineNumber = lineNumber
    }

    /// Bytes of an incomplete last line held back.
    public var pendingByteCount: Int { pending.count + (discardedBytes ?? 0) }

    /// Feeds bytes; returns the complete lines found (blank lines are counted, not returned).
    public mutating func append(_ chunk: some Collection<UInt8>) -> [InputLine] {
        var lines: [InputLine] = []
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                finishLine(into: &lines)
                continue
            }
            if let discarded = discardedBytes {
                discardedBytes = discarded + 1
                continue
            }
            pending.append(byte)
            if pending.count > maxLineBytes {
                discardedBytes = pending.count
                pending.removeAll(keepingCapacity: false)
            }
        }
        return lines
    }

    /// Ends the stream: a last line without a newline becomes a line.
    public mutating func finish() -> [InputLine] {
        guard !pending.isEmpty || discardedBytes != nil else { return [] }
        var lines: [InputLine] = []
        finishLine(into: &lines)
        return lines
    }

    private mutating func finishLine(into lines: inout [InputLine]) {
        lineNumber += 1
        if let discarded = discardedBytes {
            consumedOffset += Int64(discarded) + 1
            lines.append(InputLine(bytes: [], number: lineNumber, oversizeBytes: discarded))
            discardedBytes = nil
            return
        }
        consumedOffset += Int64(pending.count) + 1
        if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
        if pending.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) {
            lines.append(InputLine(bytes: pending, number: lineNumber))
        }
        pending.removeAll(keepingCapacity: true)
    }
}
