import AgriTraceCore
import Testing

@Suite struct CommitmentTests {
    @Test func classificationSplitsByLevel() throws {
        let classified = Classifier(identity: Fixtures.identity).classify(
            Fixtures.planting, sequence: 1, bootID: "b", recordedAt: .now())
        let record = classified.record
        #expect(
            record.publicFields.map(\.key) == ["planting.planting_origin", "planting.sowing_time", "planting.variety"])
        #expect(
            classified.level2?.entries.map(\.key) == [
                "planting.mould_content", "planting.planted_quantity", "planting.temperature_humidity",
            ])
        #expect(classified.level1?.entries.map(\.key) == ["planting.cost_price", "planting.personnel"])
        #expect(record.level2?.fieldCount == 3)
        #expect(record.level1?.fieldCount == 2)
        // No private value is in the record's bytes.
        let bytes = Canonical.encode(record)
        for secret in ["Li Wei", "1830"] {
            #expect(!bytes.hexString.contains(Array(secret.utf8).hexString))
        }
        #expect(record.id == RecordID.derive(enterprise: "FARM1", device: "farm-box-01", sequence: 1))
        #expect(record.clockTrusted)
    }

    @Test func clockBeforeEnrollmentIsFlagged() {
        let classified = Classifier(identity: Fixtures.identity).classify(
            Fixtures.planting, sequence: 1, bootID: "b", recordedAt: Timestamp(milliseconds: 5_000))
        #expect(!classified.record.clockTrusted)
    }

    @Test func commitmentVerifiesWithTheRightSaltAndValuesOnly() throws {
        let classified = Fixtures.classifiedPlanting()
        let level1 = try #require(classified.level1)
        let commitment = try #require(classified.record.level1)
        try level1.verify(against: commitment)

        var wrongSalt = level1
        wrongSalt.salt[0] ^= 1
        #expect(throws: CommitmentError.rootMismatch(level: .level1)) { try wrongSalt.verify(against: commitment) }

        var wrongValue = level1
        wrongValue.entries[0].value = .number(1830.6)
        #expect(throws: CommitmentError.rootMismatch(level: .level1)) { try wrongValue.verify(against: commitment) }

        var dropped = level1
        dropped.entries.removeLast()
        #expect(throws: CommitmentError.fieldCountMismatch(expected: 2, actual: 1)) {
            try dropped.verify(against: commitment)
        }

        // Level-1 values do not open the level-2 commitment.
        #expect(throws: CommitmentError.levelMismatch(expected: .level2, actual: .level1)) {
            try level1.verify(against: classified.record.level2!)
        }
    }

    @Test func sameValueInTwoRecordsGivesDifferentCommitments() {
        let classifier = Classifier(identity: Fixtures.identity)
        let a = classifier.classify(Fixtures.planting, sequence: 1, bootID: "b", recordedAt: .now())
        let b = classifier.classify(Fixtures.planting, sequence: 2, bootID: "b", recordedAt: .now())
        #expect(a.level1!.entries == b.level1!.entries)
        #expect(a.record.level1!.root != b.record.level1!.root)
        #expect(a.record.level2!.root != b.record.level2!.root)
        #expect(a.level1!.salt != b.level1!.salt)
        #expect(a.level1!.salt.count == 32)
    }

    @Test func oneFieldCanBeDisclosedAndChecked() throws {
        let classified = Fixtures.classifiedPlanting()
        let level2 = try #require(classified.level2)
        let commitment = try #require(classified.record.level2)
        for entry in level2.entries {
            let disclosure = try level2.disclose(key: entry.key)
            #expect(disclosure.entry == entry)
            try disclosure.verify(against: commitment)
            // Round trip through canonical bytes (how it travels).
            try Canonical.decode(FieldDisclosure.self, from: Canonical.encode(disclosure)).verify(against: commitment)
        }

        let disclosure = try level2.disclose(key: "planting.planted_quantity")
        var alteredValue = disclosure
        alteredValue.entry.value = .number(1201)
        #expect(throws: CommitmentError.self) { try alteredValue.verify(against: commitment) }
        var alteredSalt = disclosure
        alteredSalt.fieldSalt[5] ^= 0x80
        #expect(throws: CommitmentError.self) { try alteredSalt.verify(against: commitment) }
        var alteredProof = disclosure
        alteredProof.path[0] = Digest32.zero
        #expect(throws: CommitmentError.self) { try alteredProof.verify(against: commitment) }
        var movedIndex = disclosure
        movedIndex.index = (disclosure.index + 1) % 3
        #expect(throws: CommitmentError.self) { try movedIndex.verify(against: commitment) }
        var renamed = disclosure
        renamed.entry.key = "planting.mould_content"
        #expect(throws: CommitmentError.self) { try renamed.verify(against: commitment) }
        #expect(throws: CommitmentError.unknownField("planting.variety")) {
            try level2.disclose(key: "planting.variety")
        }
    }

    @Test func disclosedFieldSaltRevealsNothingAboutOtherSalts() throws {
        let level2 = try #require(Fixtures.classifiedPlanting().level2)
        let salts = level2.entries.map { level2.fieldSalt(for: $0.key) }
        #expect(Set(salts).count == salts.count)
        #expect(!salts.contains(level2.salt))
    }
}
