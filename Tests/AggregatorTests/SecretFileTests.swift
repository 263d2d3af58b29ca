import AgriTraceCore
import Crypto
import Foundation
import TestSupport
import Testing

/// The CLI refuses secret files every user may read, naming the file, its mode and the fix.
@Suite("Secret file permissions", .serialized, .timeLimit(.minutes(2)))
struct SecretFileTests {
    @Test("a world-readable authority key is refused naming the file and chmod; 0640 and 0600 are read")
    func worldReadableKeyIsRefused() throws {
        let fixture = try LedgerFixture()
        let keyFile = fixture.directory.file("authority.key")
        try writeSecretFile(Array(fixture.authority.rawRepresentation).hexString + "\n", to: keyFile)
        let revoke = [
            "devices", "revoke", "--enterprise", fixture.device.enterprise, "--device", fixture.device.device,
            "--authority-key", keyFile, "--store", fixture.path, "--wait", "0",
        ]

        #expect(chmod(keyFile, 0o644) == 0)
        let refused = try runAgritrace(revoke)
        #expect(refused.status != 0)
        #expect(refused.output.contains("\(keyFile) (Ed25519 private key) can be read by every user"))
        #expect(refused.output.contains("mode 644"))
        #expect(refused.output.contains("chmod 600 \(keyFile)"))

        // Group-readable (a service group) is accepted: the key is read and checked against
        // the store (another key would be "not the authority key").
        #expect(chmod(keyFile, 0o640) == 0)
        let accepted = try runAgritrace(revoke)
        #expect(!accepted.output.contains("can be read by every user"), "\(accepted.output)")
        #expect(accepted.status == 0, "\(accepted.output)")

        let otherKey = fixture.directory.file("other.key")
        try writeSecretFile(Array(Curve25519.Signing.PrivateKey().rawRepresentation).hexString + "\n", to: otherKey)
        var other = revoke
        other[other.firstIndex(of: keyFile)!] = otherKey
        let wrong = try runAgritrace(other)
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("is not the authority key of"), "\(wrong.output)")
    }

    @Test("keygen writes the private key 0600 and the public key readable")
    func keygenWritesOwnerOnlyKey() throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-keygen")
        let keyFile = directory.file("new.key")
        let made = try runAgritrace(["keygen", "--output", keyFile])
        #expect(made.status == 0, "\(made.output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(FileManager.default.fileExists(atPath: keyFile + ".pub"))
    }
}
