import QMPWire
import Testing

/// QEMU's `key=value,...` syntax as `-device` and HMP's `device_add` read it.
@Suite struct QemuOptionsTests {
    private func parse(_ text: String, implied: String? = "driver") -> [String] {
        QemuOptions.parse(text, impliedKey: implied).map { "\($0.key)=\($0.value)" }
    }

    @Test func impliedKeyAndMembers() {
        #expect(parse("virtio-net-pci,id=n1,bus=pci.1") == ["driver=virtio-net-pci", "id=n1", "bus=pci.1"])
        #expect(parse("driver=e1000,id=n2") == ["driver=e1000", "id=n2"])
        #expect(parse("id=x", implied: nil) == ["id=x"])
        #expect(parse("") == [])
    }

    @Test func doubledCommasAreLiteral() {
        #expect(parse("virtio-net-pci,,x") == ["driver=virtio-net-pci,x"])
        #expect(parse("file,path=/a,,b,,,id=c") == ["driver=file", "path=/a,b,", "id=c"])
    }

    @Test func flagsWithoutValues() {
        #expect(parse("e1000,mq,noshare") == ["driver=e1000", "mq=on", "share=off"])
        #expect(parse("nodes", implied: nil) == ["des=off"])
        #expect(parse("no", implied: nil) == ["no=on"])
    }

    @Test func repeatsKeepTheirOrder() {
        #expect(parse("a,x=1,x=2") == ["driver=a", "x=1", "x=2"])
    }
}

/// QEMU's keyval nesting of dotted keys (`-blockdev file.driver=file`).
@Suite struct QemuOptionsKeyvalTests {
    @Test func dottedKeysNest() {
        let object = QemuOptions.keyvalObject([
            ("driver", "qcow2"), ("file.driver", "file"), ("file.filename", "/x"), ("cache.direct", .bool(true)),
            ("driver", "raw"),
        ])
        #expect(
            object
                == [
                    "driver": "raw", "file": .object(["driver": "file", "filename": "/x"]),
                    "cache": .object(["direct": .bool(true)]),
                ]
        )
    }
}
