import AgriTraceCore
import Exports
import Hummingbird
import Ledger

/// The `Content-Disposition` of the `/v1/export/…` answers: an attachment with a file name that
/// says what was exported (`agritrace-SA-2026-5521-backward.epcis.jsonld`,
/// `agritrace-2026-07-01T00-00-00Z-2026-08-01T00-00-00Z.fsma204.csv`), so the console's download
/// links and a browser opening the URL save the document under that name.
enum ExportDownload {
    /// The exported document's kind and its file-name suffix.
    enum Kind: String {
        case epcis = "epcis.jsonld"
        case fsma204 = "fsma204.csv"
    }

    /// The header value for `selection` exported as `kind`.
    static func disposition(_ selection: ExportSelection, _ kind: Kind) -> String {
        let name: String
        switch selection {
        case .lot(let lot, let direction): name = "\(lot)-\(direction.rawValue)"
        case .window(let since, let until): name = "\(since.iso8601)-\(until.iso8601)"
        }
        return "attachment; filename=\"agritrace-\(safe(name)).\(kind.rawValue)\""
    }

    /// Letters, digits, `.`, `_` and `-` kept; anything else (quotes, slashes, colons) becomes `-`.
    static func safe(_ text: String) -> String {
        String(
            text.map { character in
                character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character))
                    ? character : "-"
            })
    }

    /// `response` with the disposition set.
    static func attach(_ response: Response, _ selection: ExportSelection, _ kind: Kind) -> Response {
        var response = response
        response.headers[.contentDisposition] = disposition(selection, kind)
        return response
    }
}
