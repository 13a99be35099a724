// Command govmm-driver runs Kata Containers' govmm (Debian's golang-github-kata-containers-govmm-dev,
// built in GOPATH mode against /usr/share/gocode, offline) against one QMP socket: the hot-plug flows
// a stack built on govmm runs, through govmm's own API only. It prints one JSON line per step:
//
//	{"flow": "disk", "step": 2, "call": "ExecutePCIDeviceAdd(...)", "error": null, "result": ..., "events": [...]}
//
// "error" is govmm's error text (for a QMP error "QMP command failed: DESC"), "result" a shape of
// what the call returned (only for calls that return something), "events" the events govmm's event
// channel delivered since the previous step. Tests/integration/test_govmm.py runs it against
// qmp-mockd and against QEMU 7.2 and compares the lines.
//
// Usage: govmm-driver SOCKET FLOW WORKDIR
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/kata-containers/govmm/qemu"
)

const stepTimeout = 5 * time.Second

type event struct {
	Name string                 `json:"name"`
	Data map[string]interface{} `json:"data,omitempty"`
}

type driver struct {
	flow    string
	workdir string
	q       *qemu.QMP
	step    int
	mu      sync.Mutex
	events  []event
	drained chan struct{}
}

func (d *driver) takeEvents() []event {
	d.mu.Lock()
	defer d.mu.Unlock()
	evs := d.events
	d.events = nil
	if evs == nil {
		evs = []event{}
	}
	return evs
}

// waitEvent waits until govmm's event channel has delivered an event named name whose data has
// key=value (govmm's own wait inside ExecuteDeviceDel finishes the call before it hands the event to
// the channel, so the channel may deliver it a moment later).
func (d *driver) waitEvent(name, key, value string) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		for _, e := range d.events {
			if e.Name == name && e.Data != nil && e.Data[key] == value {
				d.mu.Unlock()
				return
			}
		}
		d.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

func (d *driver) emit(call string, err error, result interface{}) {
	d.step++
	line := map[string]interface{}{
		"flow":   d.flow,
		"step":   d.step,
		"call":   call,
		"error":  nil,
		"events": d.takeEvents(),
	}
	if err != nil {
		line["error"] = err.Error()
	}
	if result != nil {
		line["result"] = result
	}
	b, _ := json.Marshal(line)
	fmt.Println(string(b))
}

// run executes one govmm call with its own timeout and prints its step.
func (d *driver) run(call string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	err := f(ctx)
	d.emit(call, err, nil)
	return err
}

// deviceDel is govmm's ExecuteDeviceDel (which blocks until DEVICE_DELETED for the id), then the
// event channel's copy of that event.
func (d *driver) deviceDel(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	err := d.q.ExecuteDeviceDel(ctx, id)
	if err == nil {
		d.waitEvent("DEVICE_DELETED", "device", id)
	}
	d.emit(fmt.Sprintf("ExecuteDeviceDel(%q)", id), err, nil)
}

// tapOrSocket returns a tap descriptor when this process may create one (root, or a user and
// network namespace), else one end of a socketpair; and which it is.
func tapOrSocket(name string) (*os.File, string) {
	if os.Getenv("GOVMM_DRIVER_NO_TAP") != "" {
		// as where no tap can be made (tests of the test)
	} else if fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0); err == nil {
		var ifr [40]byte
		copy(ifr[:15], name)
		*(*uint16)(unsafe.Pointer(&ifr[16])) = 0x0002 | 0x1000 // IFF_TAP | IFF_NO_PI
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), 0x400454ca, uintptr(unsafe.Pointer(&ifr[0])))
		if errno == 0 {
			return os.NewFile(uintptr(fd), "tap"), "tap"
		}
		syscall.Close(fd)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	return os.NewFile(uintptr(fds[0]), "socketpair"), "socketpair"
}

func (d *driver) image(name string, size int64) string {
	p := filepath.Join(d.workdir, name)
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	if err := f.Truncate(size); err != nil {
		panic(err)
	}
	f.Close()
	return p
}

// The commands and events the flows below rely on: what a stack looks for in query-qmp-schema.
var probed = []string{"blockdev-add", "blockdev-del", "chardev-add", "chardev-remove", "device_add",
	"device_del", "getfd", "netdev_add", "netdev_del", "query-hotpluggable-cpus", "query-status",
	"DEVICE_DELETED"}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: govmm-driver SOCKET FLOW WORKDIR")
		os.Exit(64)
	}
	sock, flow, workdir := os.Args[1], os.Args[2], os.Args[3]
	d := &driver{flow: flow, workdir: workdir, drained: make(chan struct{})}

	evCh := make(chan qemu.QMPEvent)
	go func() {
		for ev := range evCh {
			d.mu.Lock()
			d.events = append(d.events, event{Name: ev.Name, Data: ev.Data})
			d.mu.Unlock()
		}
		close(d.drained)
	}()
	disconnected := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	// Kata gives govmm a larger line buffer than bufio's 64 KiB default: QEMU's query-qmp-schema
	// reply is one ~207 KB line. The flow "schema-default-buffer" keeps the default.
	cfg := qemu.QMPConfig{EventCh: evCh, MaxCapacity: 1 << 20}
	if flow == "schema-default-buffer" {
		cfg.MaxCapacity = 0
	}
	q, ver, err := qemu.QMPStart(ctx, sock, cfg, disconnected)
	cancel()
	if err != nil {
		d.emit("QMPStart()", err, nil)
		os.Exit(1)
	}
	d.q = q
	d.emit("QMPStart()", nil, map[string]interface{}{"major": ver.Major, "minor": ver.Minor,
		"capabilities": ver.Capabilities})
	if d.run("ExecuteQMPCapabilities()", q.ExecuteQMPCapabilities) != nil {
		os.Exit(1)
	}

	switch flow {
	case "probe":
		// Before any hot-plug: what Kata's runtime asks (schema, run state, hot-pluggable CPUs).
		d.schemaStep()
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		st, err := q.ExecuteQueryStatus(ctx)
		cancel()
		d.emit("ExecuteQueryStatus()", err, map[string]interface{}{"running": st.Running, "status": st.Status})
		ctx, cancel = context.WithTimeout(context.Background(), stepTimeout)
		cpus, err := q.ExecuteQueryHotpluggableCPUs(ctx)
		cancel()
		var shape []map[string]interface{}
		for _, c := range cpus {
			shape = append(shape, map[string]interface{}{"type": c.Type, "vcpus-count": c.VcpusCount,
				"qom-path": c.QOMPath, "props": c.Properties})
		}
		d.emit("ExecuteQueryHotpluggableCPUs()", err, shape)

	case "schema-default-buffer":
		// govmm with QMPConfig's defaults: its line reader stops at 64 KiB.
		d.schemaStep()

	case "disk":
		// Kata's block hot-plug of a file-backed disk: blockdev-add (file), device_add with an address
		// on a root port, the node refused while in use, device_del (waits for DEVICE_DELETED), blockdev-del.
		img := d.image("disk0.img", 1<<20)
		d.run(`ExecuteBlockdevAddWithDriverCache("file", IMG, "drive-virtio0", direct=false, noFlush=false, ro=false)`,
			func(ctx context.Context) error {
				return q.ExecuteBlockdevAddWithDriverCache(ctx, "file", img, "drive-virtio0", false, false, false)
			})
		d.run(`ExecutePCIDeviceAdd("drive-virtio0", "virtio0", "virtio-blk-pci", addr="00", bus="rp1", romfile="", queues=0)`,
			func(ctx context.Context) error {
				return q.ExecutePCIDeviceAdd(ctx, "drive-virtio0", "virtio0", "virtio-blk-pci", "00", "rp1", "", 0, false, false)
			})
		d.run(`ExecuteBlockdevDel("drive-virtio0") (in use)`, func(ctx context.Context) error {
			return q.ExecuteBlockdevDel(ctx, "drive-virtio0")
		})
		d.deviceDel("virtio0")
		d.run(`ExecuteBlockdevDel("drive-virtio0")`, func(ctx context.Context) error {
			return q.ExecuteBlockdevDel(ctx, "drive-virtio0")
		})

	case "disk-hostdev":
		// The host_device path (ExecuteBlockdevAddWithCache, read-only), ExecuteDeviceAdd with bus,
		// share-rw and govmm's empty romfile, multi-queue ExecutePCIDeviceAdd on a second port.
		d.run(`ExecuteBlockdevAddWithCache("/dev/null", "drive-hd0", direct=false, noFlush=true, ro=true)`,
			func(ctx context.Context) error {
				return q.ExecuteBlockdevAddWithCache(ctx, "/dev/null", "drive-hd0", false, true, true)
			})
		d.run(`ExecuteDeviceAdd("drive-hd0", "hd0", "virtio-blk-pci", bus="rp2", romfile="", shared=true)`,
			func(ctx context.Context) error {
				return q.ExecuteDeviceAdd(ctx, "drive-hd0", "hd0", "virtio-blk-pci", "rp2", "", true, false)
			})
		img := d.image("disk1.img", 1<<20)
		d.run(`ExecuteBlockdevAdd(IMG, "drive-hd1", ro=false) (host_device on a regular file)`,
			func(ctx context.Context) error { return q.ExecuteBlockdevAdd(ctx, img, "drive-hd1", false) })
		d.deviceDel("hd0")
		d.run(`ExecuteBlockdevDel("drive-hd0")`, func(ctx context.Context) error {
			return q.ExecuteBlockdevDel(ctx, "drive-hd0")
		})

	case "nic":
		// Kata's tap NIC: getfd (the descriptor with SCM_RIGHTS), netdev_add fds=, virtio-net-pci,
		// device_del, netdev_del.
		f, kind := tapOrSocket("govmm" + fmt.Sprint(os.Getpid()%100000))
		d.run(fmt.Sprintf(`ExecuteGetFD("fd-tap0", %s)`, kind), func(ctx context.Context) error {
			return q.ExecuteGetFD(ctx, "fd-tap0", f)
		})
		f.Close()
		d.run(`ExecuteNetdevAddByFds("tap", "hostnet0", ["fd-tap0"], nil)`, func(ctx context.Context) error {
			return q.ExecuteNetdevAddByFds(ctx, "tap", "hostnet0", []string{"fd-tap0"}, nil)
		})
		d.run(`ExecuteNetPCIDeviceAdd("hostnet0", "net0", "52:54:00:12:34:56", addr="00", bus="rp3", romfile="", queues=0)`,
			func(ctx context.Context) error {
				return q.ExecuteNetPCIDeviceAdd(ctx, "hostnet0", "net0", "52:54:00:12:34:56", "00", "rp3", "", 0, false)
			})
		d.deviceDel("net0")
		d.run(`ExecuteNetdevDel("hostnet0")`, func(ctx context.Context) error {
			return q.ExecuteNetdevDel(ctx, "hostnet0")
		})

	case "chardev":
		// A unix-socket chardev (as for vhost-user), a device holding it (pci-serial, through govmm's
		// ExecutePCIVhostUserDevAdd, which takes any driver with chardev=), chardev-remove while busy,
		// device_del, chardev-remove.
		path := filepath.Join(d.workdir, "char0.sock")
		d.run(`ExecuteCharDevUnixSocketAdd("char0", PATH, wait=false, server=true)`, func(ctx context.Context) error {
			return q.ExecuteCharDevUnixSocketAdd(ctx, "char0", path, false, true)
		})
		d.run(`ExecutePCIVhostUserDevAdd("pci-serial", "serial0", "char0", addr="00", bus="rp4")`,
			func(ctx context.Context) error {
				return q.ExecutePCIVhostUserDevAdd(ctx, "pci-serial", "serial0", "char0", "00", "rp4")
			})
		d.run(`ExecuteChardevDel("char0") (busy)`, func(ctx context.Context) error {
			return q.ExecuteChardevDel(ctx, "char0")
		})
		d.deviceDel("serial0")
		d.run(`ExecuteChardevDel("char0")`, func(ctx context.Context) error {
			return q.ExecuteChardevDel(ctx, "char0")
		})

	case "errors":
		img := d.image("disk2.img", 1<<20)
		d.run(`ExecuteDeviceAdd("nosuchdrive", "vblk9", "virtio-blk-pci", bus="rp1")`, func(ctx context.Context) error {
			return q.ExecuteDeviceAdd(ctx, "nosuchdrive", "vblk9", "virtio-blk-pci", "rp1", "", false, false)
		})
		d.run(`ExecuteNetPCIDeviceAdd("nosuchnet", "net9", addr="00", bus="rp1")`, func(ctx context.Context) error {
			return q.ExecuteNetPCIDeviceAdd(ctx, "nosuchnet", "net9", "", "00", "rp1", "", 0, false)
		})
		addDup := func(ctx context.Context) error {
			return q.ExecuteBlockdevAddWithDriverCache(ctx, "file", img, "dup0", false, false, false)
		}
		d.run(`ExecuteBlockdevAddWithDriverCache("file", IMG, "dup0")`, addDup)
		d.run(`ExecuteBlockdevAddWithDriverCache("file", IMG, "dup0") (duplicate node)`, addDup)
		d.run(`ExecutePCIDeviceAdd("dup0", "dupdev", "virtio-blk-pci", addr="00", bus="rp1")`, func(ctx context.Context) error {
			return q.ExecutePCIDeviceAdd(ctx, "dup0", "dupdev", "virtio-blk-pci", "00", "rp1", "", 0, false, false)
		})
		d.run(`ExecutePCIDeviceAdd("dup0", "dupdev", "virtio-blk-pci", addr="00", bus="rp2") (duplicate id)`, func(ctx context.Context) error {
			return q.ExecutePCIDeviceAdd(ctx, "dup0", "dupdev", "virtio-blk-pci", "00", "rp2", "", 0, false, false)
		})
		d.run(`ExecuteBlockdevDel("dup0") (in use)`, func(ctx context.Context) error {
			return q.ExecuteBlockdevDel(ctx, "dup0")
		})
		d.deviceDel("nosuchdev")
		d.run(`ExecuteBlockdevDel("nosuchnode")`, func(ctx context.Context) error {
			return q.ExecuteBlockdevDel(ctx, "nosuchnode")
		})
		d.run(`ExecuteNetdevDel("nosuchnet")`, func(ctx context.Context) error {
			return q.ExecuteNetdevDel(ctx, "nosuchnet")
		})
		d.run(`ExecuteChardevDel("nosuchchar")`, func(ctx context.Context) error {
			return q.ExecuteChardevDel(ctx, "nosuchchar")
		})
		d.run(`ExecuteNetdevChardevAdd("vhost-user", "vhu0", "nosuchchar", 0)`, func(ctx context.Context) error {
			return q.ExecuteNetdevChardevAdd(ctx, "vhost-user", "vhu0", "nosuchchar", 0)
		})
		d.run(`ExecuteNetdevAdd("user", "user0", ifname="tapx", "no", "no", 0)`, func(ctx context.Context) error {
			return q.ExecuteNetdevAdd(ctx, "user", "user0", "tapx", "no", "no", 0)
		})
		pr, pw, _ := os.Pipe()
		d.run(`ExecuteGetFD("1bad", pipe)`, func(ctx context.Context) error { return q.ExecuteGetFD(ctx, "1bad", pr) })
		pr.Close()
		pw.Close()
		d.run(`ExecuteBlockdevAdd("/nonexistent/disk", "nodisk", ro=false)`, func(ctx context.Context) error {
			return q.ExecuteBlockdevAdd(ctx, "/nonexistent/disk", "nodisk", false)
		})
		charA := filepath.Join(d.workdir, "charA.sock")
		addA := func(ctx context.Context) error {
			return q.ExecuteCharDevUnixSocketAdd(ctx, "charA", charA, false, true)
		}
		d.run(`ExecuteCharDevUnixSocketAdd("charA", PATH, wait=false, server=true)`, addA)
		d.run(`ExecuteCharDevUnixSocketAdd("charA", PATH, ...) (duplicate id)`, addA)
		d.run(`ExecutePCIVhostUserDevAdd("pci-serial", "serial9", "nosuchchar", addr="00", bus="rp2")`, func(ctx context.Context) error {
			return q.ExecutePCIVhostUserDevAdd(ctx, "pci-serial", "serial9", "nosuchchar", "00", "rp2")
		})

	default:
		fmt.Fprintf(os.Stderr, "govmm-driver: unknown flow %q\n", flow)
		os.Exit(64)
	}

	// Let govmm's loop go; whatever its event channel still delivers is the last line.
	q.Shutdown()
	<-disconnected
	<-d.drained
	d.emit("Shutdown()", nil, nil)
}

func (d *driver) schemaStep() {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	schema, err := d.q.ExecQueryQmpSchema(ctx)
	var found map[string]string
	if err == nil {
		have := map[string]string{}
		for _, s := range schema {
			if s.MetaType == "command" || s.MetaType == "event" {
				have[s.Name] = s.MetaType
			}
		}
		found = map[string]string{}
		names := append([]string(nil), probed...)
		sort.Strings(names)
		for _, n := range names {
			if m, ok := have[n]; ok {
				found[n] = m
			} else {
				found[n] = "absent"
			}
		}
	}
	d.emit("ExecQueryQmpSchema()", err, found)
}
