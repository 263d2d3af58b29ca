import SharingGraph

extension Scenario {
    /// A truck carries the warehouse's lot of two days ago to its shop: a position every 30
    /// minutes at 60 km/h and a temperature every 5 minutes (a short door-open spike now and
    /// then; injected: a long excursion above 8 °C).
    mutating func truck(_ site: Int, day: Int) {
        let lot = "P\(site)-\(day - 2)"
        let from = warehouses[site]
        let to = shops[site]
        let departure = dayStart(day) + Int64(8 + random.int(0..<4)) * Self.hour + minutes(60)
        let duration = Int64(from.kilometres(to: to) / 60 * Double(Self.hour))
        let steps = max(1, Int(duration / (30 * Self.minute)))
        for step in 0...steps {
            let share = Double(step) / Double(steps)
            let place = GeoPoint(
                latitude: from.latitude + (to.latitude - from.latitude) * share,
                longitude: from.longitude + (to.longitude - from.longitude) * share)
            record(
                "truck-\(site)", lot: lot, stage: 4, time: departure + Int64(share * Double(duration)), location: place)
        }
        var samples: [SensorSeries.Sample] = []
        let count = Int(duration / (5 * Self.minute)) + 1
        let spike = random.chance(0.1) ? random.int(0..<max(1, count - 3)) : -10
        let excursion = planned(.coldChain, site: site, day: day)
        let excursionStart = random.int(0..<max(1, count / 3))
        let excursionLength = 9 + random.int(0..<10)
        for index in 0..<count {
            var value = 4 + random.double(-1..<1)
            if (spike..<(spike + 2)).contains(index) { value = 9 }
            if excursion && (excursionStart..<(excursionStart + excursionLength)).contains(index) {
                value = 9 + random.double(0..<4)
            }
            samples.append(.init(time: departure + Int64(index) * 5 * Self.minute, value: value))
        }
        series.append(
            SensorSeries(leaf: UInt64(records.count - 1), lot: lot, device: "truck-\(site)", samples: samples))
        if excursion {
            injections.append(
                Injection(kind: .alarm(.coldChain), subjects: [lot], from: dayStart(day), until: dayStart(day + 1)))
        }
    }

    /// The other injections of a site's day: a lot at two places, a record far from its
    /// device, a burst of records.
    mutating func injectTrace(_ site: Int, day: Int) {
        if planned(.twoPlaces, site: site, day: day) {
            let lot = "P\(site)-\(day - 1)"
            let device = "warehouse-box-\(site)"
            let first = records.last { $0.lot == lot && $0.device == device }?.time ?? dayStart(day) + 12 * Self.hour
            let far =
                (0..<Self.sites).max {
                    warehouses[site].kilometres(to: warehouses[$0]) < warehouses[site].kilometres(to: warehouses[$1])
                } ?? 0
            record(
                "warehouse-box-\(far)", lot: lot, stage: 3, time: first - 5 * Self.minute,
                location: jitter(warehouses[far]))
            injections.append(
                Injection(kind: .alarm(.twoPlaces), subjects: [lot], from: dayStart(day), until: dayStart(day + 1)))
        }
        if planned(.location, site: site, day: day) {
            let lot = "P\(site)-\(day)"
            let device = "processor-box-\(site)"
            let place = processors[site]
            let time = dayStart(day) + 13 * Self.hour + minutes(60)
            record(
                device, lot: lot, stage: 2, time: time,
                location: GeoPoint(latitude: place.latitude + 1.5, longitude: place.longitude + 1.5))
            injections.append(
                Injection(
                    kind: .alarm(.location), subjects: [device, lot], from: dayStart(day), until: dayStart(day + 1)))
        }
        if planned(.rate, site: site, day: day) {
            let device = "farm-box-\(site)"
            let hour = dayStart(day) + 14 * Self.hour
            for _ in 0..<(60 + random.int(0..<61)) {
                record(
                    device, lot: "F\(site)-\(day)", stage: 1, time: hour + Int64(random.int(0..<3_600_000)),
                    location: nil)
            }
            injections.append(Injection(kind: .alarm(.rate), subjects: [device], from: hour, until: hour + Self.hour))
        }
    }
}
