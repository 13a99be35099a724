import QMPWire

/// `netdev_add type=tap` as QEMU's `net_init_tap` checks it (7.2.22 and 10.0.2 alike). The tap is
/// simulated: a passed tap descriptor is held, never inspected (QEMU refuses one that is not a tap:
/// `Unable to query TUNGETIFF on FD N: Inappropriate ioctl for device`); `ifname=` without a
/// descriptor opens nothing (QEMU opens `/dev/net/tun`, which needs root), `script=`/`downscript=`/
/// `helper=` run nothing, and `vhost=on` without `vhostfd` opens no `/dev/vhost-net`. So an
/// unprivileged test suite gets the answers a privileged host gives. See docs/deviations.md.
extension Machine {
    func openTap(_ backend: inout NetworkBackend, monitor: String) throws(QMPError) {
        let options = backend.options
        func has(_ key: String) -> Bool { options[key] != nil }
        let vhostfd = options["vhostfd"]?.stringValue
        if let fd = options["fd"]?.stringValue {
            if has("ifname") || has("script") || has("downscript") || has("vnet_hdr") || has("helper")
                || has("queues") || has("fds") || has("vhostfds")
            {
                throw .generic(
                    "ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, fds=, and vhostfds= are invalid with fd="
                )
            }
            let tap = try takeDescriptorParameter(fd, monitor: monitor, backendID: backend.id)
            do throws(QMPError) {
                backend.descriptors += try tapQueue(options, vhostfd: vhostfd, monitor: monitor, backendID: backend.id)
            } catch {
                releaseDescriptors(tap.map { [$0] } ?? [])  // QEMU closes the tap it took
                throw error
            }
            if let tap { backend.descriptors.insert(tap, at: 0) }
        } else if let fds = options["fds"]?.stringValue {
            if has("ifname") || has("script") || has("downscript") || has("vnet_hdr") || has("helper")
                || has("queues") || has("vhostfd")
            {
                throw .generic(
                    "ifname=, script=, downscript=, vnet_hdr=, helper=, queues=, and vhostfd= are invalid with fds="
                )
            }
            let names = Self.splitDescriptorList(fds)
            let vhostNames = options["vhostfds"]?.stringValue.map(Self.splitDescriptorList)
            if let vhostNames, vhostNames.count != names.count {
                throw .generic("The number of fds passed does not match the number of vhostfds passed")
            }
            // Queue by queue; QEMU keeps the queues made before a failing one, under the id
            // (``NetworkBackend/isIncomplete``).
            for (queue, name) in names.enumerated() {
                do throws(QMPError) {
                    let tap = try takeDescriptorParameter(name, monitor: monitor, backendID: backend.id)
                    do throws(QMPError) {
                        let vhost = try tapQueue(
                            options,
                            vhostfd: vhostNames?[queue],
                            monitor: monitor,
                            backendID: backend.id
                        )
                        backend.descriptors += (tap.map { [$0] } ?? []) + vhost
                    } catch {
                        releaseDescriptors(tap.map { [$0] } ?? [])
                        throw error
                    }
                } catch {
                    if queue > 0 {
                        backend.isIncomplete = true
                        netdevs.insert(backend)
                    }
                    throw error
                }
            }
        } else {
            // ifname=/script=: QEMU creates the tap itself (root only); simulated.
            // Text as QEMU's net_init_tap has it (not measured: reaching it needs root and a tap).
            if has("vhostfds") { throw .generic("vhostfds= is invalid if fds= wasn't specified") }
            let queues = max(1, options["queues"]?.int64Value ?? 1)
            for _ in 0..<queues {
                backend.descriptors += try tapQueue(options, vhostfd: vhostfd, monitor: monitor, backendID: backend.id)
            }
        }
    }

    /// One queue's vhost part (`net_init_tap_one`): vhost is wanted when `vhost` says so, else when a
    /// vhost descriptor or `vhostforce=on` is given. Returns the vhost descriptor taken, if any.
    private func tapQueue(
        _ options: JSONObject,
        vhostfd: String?,
        monitor: String,
        backendID: String
    ) throws(QMPError) -> [Int32] {
        let wantsVhost = options["vhost"]?.boolValue ?? (vhostfd != nil || options["vhostforce"]?.boolValue == true)
        if wantsVhost {
            guard let vhostfd else { return [] }  // QEMU opens /dev/vhost-net: simulated
            return try takeDescriptorParameter(vhostfd, monitor: monitor, backendID: backendID).map { [$0] } ?? []
        }
        if vhostfd != nil { throw .generic("vhostfd(s)= is not valid without vhost") }
        return []
    }

    /// QEMU's `get_fds`: `A:B:C`.
    static func splitDescriptorList(_ text: String) -> [String] {
        text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }
}
