/// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, a quote or a line end.
public enum CSV {
    /// One line of `cells`, ending in CRLF. A cell starting with `=`, `+`, `@` or a tab gets a
    /// leading `'` so spreadsheets do not run it as a formula.
    public static func line(_ cells: [String]) -> String {
        var bytes: [UInt8] = []
        append(cells, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the line of `cells` to `text`.
    public static func append(_ cells: [String], to text: inout String) {
        text += line(cells)
    }

    /// Appends the line of `cells` (UTF-8) to `bytes`.
    public static func append(_ cells: [String], to bytes: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            append(cell: cell, to: &bytes)
        }
        bytes.append(contentsOf: [13, 10])
    }

    /// One cell (UTF-8) appended to `bytes`, guarded and quoted as ``append(cell:to:)-(UnsafeRawBufferPointer,_)`` does.
    public static func append(cell value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { append(cell: UnsafeRawBufferPointer($0), to: &bytes) }
    }

    /// One cell: a formula guard for a leading `=`, `+`, `@` or tab; quotes when it holds a
    /// comma, a quote or a line end (inner quotes doubled).
    public static func append(cell value: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        let guarded =
            value.first.map { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "@") || $0 == 9 }
            ?? false
        let quoted = value.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        if quoted { bytes.append(UInt8(ascii: "\"")) }
        if guarded { bytes.append(UInt8(ascii: "'")) }
        if quoted {
            for byte in value {
                bytes.append(byte)
                if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            }
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Parses CSV text into rows of cells (for checking exports).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        cell.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",":
                row.append(cell)
                cell = ""
            case "\r\n", "\n":
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            default: cell.append(character)
            }
        }
        if !cell.isEmpty || !row.isEmpty { rows.append(row + [cell]) }
        return rows
    }
}
