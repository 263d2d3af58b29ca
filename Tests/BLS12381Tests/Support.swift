import Foundation
import PropertyBased
import Testing

@testable import BLS12381

/// Fixtures written by scripts/bls-vectors.py (py_ecc, blst via blspy, arkworks).
enum Fixture {
  static func load(_ name: String) throws -> Any {
    let url = try #require(
      Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
  }

  static func dict(_ name: String) throws -> [String: Any] {
    try #require(try load(name) as? [String: Any])
  }
  static func list(_ name: String) throws -> [[String: Any]] {
    try #require(try load(name) as? [[String: Any]])
  }
}

extension Array where Element == UInt8 {
  init(hex: String) {
    var out = [UInt8]()
    var it = hex.makeIterator()
    while let a = it.next(), let b = it.next() {
      out.append(UInt8(String([a, b]), radix: 16)!)
    }
    self = out
  }

  var hex: String { map { String(format: "%02x", $0) }.joined() }
}

func str(_ d: [String: Any], _ k: String) -> String { d[k] as? String ?? "<missing \(k)>" }

/// Random scalars for property tests, built from generated 64-bit words.
let scalarGen = Gen.uint64().array(of: 8).map { (words: [UInt64]) -> BLS12381.Scalar in
  var bytes = [UInt8]()
  for w in words { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(8 * i))) } }
  return BLS12381.Scalar(reducing: bytes)
}

typealias G1 = BLS12381.G1
typealias G2 = BLS12381.G2
typealias GT = BLS12381.GT
typealias Scalar = BLS12381.Scalar
