extension DeviceCatalog {
    /// `pc-dimm`: a DIMM of guest RAM backed by a `memory-backend-*` object (`memdev`), plugged into a
    /// memory hot-plug slot of the machine rather than into a bus (``Machine/addDIMM``). Properties in
    /// `qom-list`'s order; `size` is the backend's, read-only.
    static let pcDIMM = DeviceModel(
        name: PCDIMM.driver,
        kind: .nonPCI,
        properties: [
            .init("memdev", "link<memory-backend>", backend: .object(type: "memory-backend")),
            .init("node", "uint32", default: .int(0)), .init("addr", "uint64", default: .int(0)),
            .init("slot", "int32", default: .int(-1)), .init("size", "uint64"),
        ],
        vendorID: 0,
        deviceID: 0,
        classCode: 0
    )
}
