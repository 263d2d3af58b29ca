#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How lots, locations and read points are named in exports: GS1 Digital Link URIs when the
/// site configures its GS1 keys, AgriTrace URNs otherwise.
///
/// The site file (JSON) maps each enterprise to its GS1 company prefix and GLN, its products
/// to GTINs and its devices to the GLNs of their read points:
///
/// ```json
/// {"requireGS1": true,
///  "enterprises": {"FARM1": {"companyPrefix": "0614141", "gln": "0614141000012",
///                            "products": {"fresh corn": "10614141000019"},
///                            "readPoints": {"soil-probe-3": "0614141000029"},
///                            "units": {"fresh corn": "kg"}}}}
/// ```
///
/// - Lot: `https://id.gs1.org/01/{GTIN-14}/10/{lot}`, else `urn:agritrace:lot:{enterprise}:{lot}`.
/// - Business location: `https://id.gs1.org/414/{GLN}`, else `urn:agritrace:enterprise:{enterprise}`.
/// - Read point: `https://id.gs1.org/414/{GLN}` of the device (or of the enterprise), else
///   `urn:agritrace:device:{enterprise}:{device}`.
public struct GS1Identifiers: Sendable, Hashable, Codable {
    /// One enterprise's GS1 keys.
    public struct Enterprise: Sendable, Hashable, Codable {
        public var companyPrefix: String
        public var gln: String?
        public var products: [String: String]
        public var readPoints: [String: String]
        /// The unit each product's quantities are recorded in (FSMA 204 "unit of measure").
        public var units: [String: String]

        public init(
            companyPrefix: String, gln: String? = nil, products: [String: String] = [:],
            readPoints: [String: String] = [:], units: [String: String] = [:]
        ) {
            self.companyPrefix = companyPrefix
            self.gln = gln
            self.products = products
            self.readPoints = readPoints
            self.units = units
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            companyPrefix = try container.decode(String.self, forKey: .companyPrefix)
            gln = try container.decodeIfPresent(String.self, forKey: .gln)
            products = try container.decodeIfPresent([String: String].self, forKey: .products) ?? [:]
            readPoints = try container.decodeIfPresent([String: String].self, forKey: .readPoints) ?? [:]
            units = try container.decodeIfPresent([String: String].self, forKey: .units) ?? [:]
        }
    }

    /// When true, a lot, location or read point without a GS1 key is an error instead of a URN.
    public var requireGS1: Bool
    public var enterprises: [String: Enterprise]

    /// URNs only (no site file).
    public init(requireGS1: Bool = false, enterprises: [String: Enterprise] = [:]) {
        self.requireGS1 = requireGS1
        self.enterprises = enterprises
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requireGS1 = try container.decodeIfPresent(Bool.self, forKey: .requireGS1) ?? false
        enterprises = try container.decodeIfPresent([String: Enterprise].self, forKey: .enterprises) ?? [:]
    }

    /// The Digital Link resolver every URI is formed on.
    public static let resolver = "https://id.gs1.org"

    /// Reads and checks a site file.
    /// - Throws: ``ExportError`` naming the file, the entry and the fix.
    public static func load(json bytes: [UInt8], file: String) throws(ExportError) -> GS1Identifiers {
        let site: GS1Identifiers
        do {
            site = try JSONDecoder().decode(GS1Identifiers.self, from: Data(bytes))
        } catch {
            throw ExportError(
                value: file, problem: "is not a GS1 site file (\(error))",
                fix:
                    "write {\"enterprises\": {\"ENTERPRISE\": {\"companyPrefix\": …, \"products\": {…}}}} (docs/exports.md)"
            )
        }
        try site.check(file: file)
        return site
    }

    /// Checks every key's length, digits, check digit and company prefix.
    public func check(file: String) throws(ExportError) {
        for (name, enterprise) in enterprises.sorted(by: { $0.key < $1.key }) {
            let prefix = enterprise.companyPrefix
            guard (4...12).contains(prefix.count), prefix.allSatisfy(\.isASCIIDigit) else {
                throw ExportError(
                    value: "\(file): enterprises.\(name).companyPrefix \"\(prefix)\"",
                    problem: "is not a GS1 company prefix", fix: "give the 4 to 12 digits GS1 assigned to the firm")
            }
            if let gln = enterprise.gln {
                try Self.checkKey(gln, digits: 13, prefix: prefix, at: "\(file): enterprises.\(name).gln")
            }
            for (product, gtin) in enterprise.products {
                try Self.checkKey(
                    gtin, digits: 14, prefix: prefix, at: "\(file): enterprises.\(name).products.\(product)")
            }
            for (device, gln) in enterprise.readPoints {
                try Self.checkKey(
                    gln, digits: 13, prefix: prefix, at: "\(file): enterprises.\(name).readPoints.\(device)")
            }
        }
    }

    static func checkKey(_ key: String, digits: Int, prefix: String, at place: String) throws(ExportError) {
        let what = digits == 14 ? "GTIN-14" : "GLN"
        guard key.count == digits, key.allSatisfy(\.isASCIIDigit) else {
            throw ExportError(
                value: "\(place) \"\(key)\"", problem: "is not a \(what)",
                fix: "give \(digits) digits (pad a GTIN-13 or GTIN-12 with leading zeros)")
        }
        guard checkDigit(of: String(key.dropLast())) == key.last else {
            throw ExportError(
                value: "\(place) \"\(key)\"", problem: "has a wrong check digit",
                fix: "the last digit must be \(checkDigit(of: String(key.dropLast())))")
        }
        let body = digits == 14 ? key.dropFirst() : Substring(key)
        guard body.hasPrefix(prefix) else {
            throw ExportError(
                value: "\(place) \"\(key)\"", problem: "is not under the enterprise's company prefix \(prefix)",
                fix: "use a key allocated from \(prefix), or correct companyPrefix")
        }
    }

    /// The GS1 mod-10 check digit of `body` (weights 3 and 1 from the right).
    public static func checkDigit(of body: String) -> Character {
        var sum = 0
        for (position, character) in body.reversed().enumerated() {
            sum += (character.wholeNumberValue ?? 0) * (position % 2 == 0 ? 3 : 1)
        }
        return Character(String((10 - sum % 10) % 10))
    }

    /// The class-level identifier of a lot of `product` made by `enterprise`.
    public func lot(_ lot: String, product: String, enterprise: String) throws(ExportError) -> String {
        if let gtin = enterprises[enterprise]?.products[product] {
            return "\(Self.resolver)/01/\(gtin)/10/\(Self.escape(lot))"
        }
        guard !requireGS1 else {
            throw ExportError(
                value: "product \"\(product)\" of enterprise \"\(enterprise)\" (lot \(lot))", problem: "has no GTIN",
                fix: "add \"\(product)\": \"<GTIN-14>\" under enterprises.\(enterprise).products in the site file")
        }
        return "urn:agritrace:lot:\(Self.escape(enterprise)):\(Self.escape(lot))"
    }

    /// The business location of `enterprise`.
    public func location(_ enterprise: String) throws(ExportError) -> String {
        if let gln = enterprises[enterprise]?.gln { return "\(Self.resolver)/414/\(gln)" }
        guard !requireGS1 else {
            throw ExportError(
                value: "enterprise \"\(enterprise)\"", problem: "has no GLN",
                fix: "add \"gln\": \"<13 digits>\" under enterprises.\(enterprise) in the site file")
        }
        return "urn:agritrace:enterprise:\(Self.escape(enterprise))"
    }

    /// The read point of `device` of `enterprise` (the device's GLN, else the enterprise's).
    public func readPoint(_ device: String, enterprise: String) throws(ExportError) -> String {
        if let gln = enterprises[enterprise]?.readPoints[device] { return "\(Self.resolver)/414/\(gln)" }
        if let gln = enterprises[enterprise]?.gln { return "\(Self.resolver)/414/\(gln)" }
        guard !requireGS1 else {
            throw ExportError(
                value: "device \"\(device)\" of enterprise \"\(enterprise)\"", problem: "has no GLN",
                fix:
                    "add \"\(device)\": \"<GLN>\" under enterprises.\(enterprise).readPoints, or a gln for the enterprise"
            )
        }
        return "urn:agritrace:device:\(Self.escape(enterprise)):\(Self.escape(device))"
    }

    /// The unit of measure of a product's quantities, if configured.
    public func unit(product: String, enterprise: String) -> String? { enterprises[enterprise]?.units[product] }

    /// The GTIN of a product, if configured.
    public func gtin(product: String, enterprise: String) -> String? { enterprises[enterprise]?.products[product] }

    /// Percent-encodes everything but the URI unreserved characters (RFC 3986), byte by byte.
    public static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80,
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar)
            {
                result.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A refused export: names the value, what is wrong with it and the fix.
public struct ExportError: Error, Hashable, Sendable, CustomStringConvertible {
    public var value: String
    public var problem: String
    public var fix: String

    public init(value: String, problem: String, fix: String) {
        self.value = value
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(value) \(problem): \(fix)" }
}
