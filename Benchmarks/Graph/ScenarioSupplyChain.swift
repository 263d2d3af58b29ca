import SharingGraph

/// The supply chain: 16 farms plant a lot a day, 6 processors make a lot a day from two farm
/// lots of the day before, 6 warehouses store the processed lots, 6 trucks carry them to 6
/// shops (positions every 30 minutes at 60 km/h, a temperature series per trip), the shops
/// sell lots made from them. Fixed devices record a few times in working hours.
extension Scenario {
    static let sites = 6

    mutating func placeSites() {
        func point(_ random: inout ScenarioRandom) -> GeoPoint {
            GeoPoint(latitude: 30 + random.double(0..<6), longitude: 110 + random.double(0..<8))
        }
        farms = (0..<owners).map { _ in point(&random) }
        processors = (0..<Self.sites).map { _ in point(&random) }
        warehouses = (0..<Self.sites).map { _ in point(&random) }
        shops = warehouses.map {
            GeoPoint(latitude: $0.latitude + 0.5 + random.double(0..<1), longitude: $0.longitude + 0.5)
        }
    }

    mutating func planTraceInjections() {
        let kinds: [AnomalyAlarm.Kind] = [.twoPlaces, .stageOrder, .timeOrder, .location, .rate, .coldChain]
        for kind in kinds {
            var placed = 0
            while placed < perKind {
                let site = random.int(0..<Self.sites)
                let day = 35 + random.int(0..<(days - 37))
                let key = "\(kind.rawValue)|\(site)|\(day)"
                guard tracePlan[key] == nil else { continue }
                tracePlan[key] = kind
                placed += 1
            }
        }
    }

    func planned(_ kind: AnomalyAlarm.Kind, site: Int, day: Int) -> Bool {
        tracePlan["\(kind.rawValue)|\(site)|\(day)"] != nil
    }

    mutating func jitter(_ point: GeoPoint) -> GeoPoint {
        GeoPoint(
            latitude: point.latitude + random.double(-0.002..<0.002),
            longitude: point.longitude + random.double(-0.002..<0.002))
    }

    /// `count` records of `lot` by a fixed device over working hours of `day`, the first one
    /// carrying the input lots.
    mutating func fixedRecords(
        _ device: String, lot: String, stage: Int, at place: GeoPoint, day: Int, inputs: [String] = [],
        earliest: Int = 8
    ) {
        let count = 3 + random.int(0..<6)
        var times = (0..<count).map { _ in
            dayStart(day) + Int64(earliest + random.int(0..<10)) * Self.hour + minutes(60)
        }
        times.sort()
        for (index, time) in times.enumerated() {
            record(
                device, lot: lot, stage: stage, time: time, location: jitter(place), inputs: index == 0 ? inputs : [])
        }
    }

    mutating func record(
        _ device: String, lot: String, stage: Int, time: Int64, location: GeoPoint?, inputs: [String] = []
    ) {
        records.append(
            TraceRecord(
                leaf: UInt64(records.count), lot: lot, stage: stage, time: time, enterprise: device, device: device,
                inputLots: inputs, location: location))
    }

    mutating func supplyChain(day: Int) {
        for farm in 0..<owners {
            fixedRecords("farm-box-\(farm)", lot: "F\(farm)-\(day)", stage: 1, at: farms[farm], day: day)
        }
        guard day >= 2 else { return }
        for site in 0..<Self.sites {
            process(site, day: day)
            fixedRecords("warehouse-box-\(site)", lot: "P\(site)-\(day - 1)", stage: 3, at: warehouses[site], day: day)
            truck(site, day: day)
            let sale = dayStart(day) + 18 * Self.hour + minutes(120)
            record(
                "shop-box-\(site)", lot: "S\(site)-\(day)", stage: 5, time: sale, location: nil,
                inputs: ["P\(site)-\(day - 2)"])
            injectTrace(site, day: day)
        }
    }

    /// The processor's lot of the day, from two farm lots of the day before; injected: made from
    /// a sales lot (stage order), or recorded in the night before its inputs (time order).
    mutating func process(_ site: Int, day: Int) {
        let lot = "P\(site)-\(day)"
        if planned(.timeOrder, site: site, day: day) {
            let inputs = ["F\((site * 2) % owners)-\(day)", "F\((site * 2 + 1) % owners)-\(day)"]
            record(
                "processor-box-\(site)", lot: lot, stage: 2, time: dayStart(day) + 30 * Self.minute + minutes(90),
                location: jitter(processors[site]), inputs: inputs)
            injections.append(
                Injection(kind: .alarm(.timeOrder), subjects: [lot], from: dayStart(day), until: dayStart(day + 1)))
            return fixedRecords(
                "processor-box-\(site)", lot: lot, stage: 2, at: processors[site], day: day, earliest: 9)
        }
        var inputs = ["F\((site * 2) % owners)-\(day - 1)", "F\((site * 2 + 1) % owners)-\(day - 1)"]
        if planned(.stageOrder, site: site, day: day) {
            inputs.append("S\((site + 1) % Self.sites)-\(day - 1)")
            injections.append(
                Injection(kind: .alarm(.stageOrder), subjects: [lot], from: dayStart(day), until: dayStart(day + 1)))
        }
        fixedRecords(
            "processor-box-\(site)", lot: lot, stage: 2, at: processors[site], day: day, inputs: inputs, earliest: 9)
    }
}
