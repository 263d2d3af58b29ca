import AgriTraceCore
import Foundation
import MQTTClient
import Provisioning
import TestSupport
import Testing

/// The blob topics of docs/transfer.md under the generated ACL, on a real mosquitto with real
/// certificates: a device uploads only on its own `blobs` topic and reads only its own
/// `blob-acks`; the aggregator reads every device's blobs and writes the acks.
@Suite("Blob topics under the per-device ACL (real mosquitto)", .serialized, .timeLimit(.minutes(2)))
struct BlobTopicAccessTests {
    @Test func aDeviceUploadsOnlyItsOwnBlobsAndReadsOnlyItsOwnAcks() async throws {
        let broker = try await ProvisionedBroker.start()
        defer { broker.kill() }
        let blobsA = Wire.blobTopic(enterprise: "FARM1", device: "farm-box-01")
        let acksA = Wire.blobAckTopic(enterprise: "FARM1", device: "farm-box-01")

        let (aggregator, a, b) = try await broker.aggregatorAndTwoDevices()
        defer { [aggregator, a, b].forEach { $0.client.disconnect() } }
        #expect(try await aggregator.subscribeAndConnect("$share/agritrace-blobs/\(Wire.allBlobsFilter)"))
        #expect(aggregator.grantedQoS.allSatisfy { $0 < 0x80 })
        #expect(try await a.subscribeAndConnect(acksA))
        #expect(try await b.subscribeAndConnect("agritrace/#"))

        #expect(try await b.publishAndWait(blobsA, "blob-forged-by-b") == 0x87)
        #expect(try await a.publishAndWait(blobsA, "blob-from-a") == 0, "\(broker.log)")
        #expect(await eventually { aggregator.payloads(on: blobsA) == ["blob-from-a"] })

        #expect(try await b.publishAndWait(acksA, "fake-ack") == 0x87)
        #expect(try await aggregator.publishAndWait(acksA, "ack-for-a") == 0)
        #expect(await eventually { a.payloads(on: acksA) == ["ack-for-a"] })
        #expect(try await aggregator.publishAndWait(blobsA, "agg-may-not-upload") == 0x87)
        try await Task.sleep(for: .milliseconds(200))
        #expect(aggregator.payloads(on: blobsA) == ["blob-from-a"], "a forged upload reached the aggregator")
        #expect(b.messages.values.isEmpty, "device B read another device's messages: \(b.messages.values)")
    }
}
