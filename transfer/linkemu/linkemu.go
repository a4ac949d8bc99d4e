// Package linkemu emulates a wide-area link between two network namespaces
// in user space, for tests and benchmarks of the transfer protocol: the
// kernel here has network namespaces and TUN but no netem, so a TCP
// baseline (which a UDP proxy cannot carry) needs a link of its own.
//
// Each side is a fresh network namespace holding one TUN device; a
// goroutine per direction reads IP packets from one device and writes them
// into the other after the configured delay, dropping a fraction at random,
// pacing them at the configured rate, or dropping all of them while the
// link is cut. Sockets are opened inside a namespace with [Side.Do]; they
// stay there, whatever thread later uses them. Needs root (CAP_NET_ADMIN
// and CAP_SYS_ADMIN), /dev/net/tun, and nsenter and ip (util-linux,
// iproute2).
package linkemu

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Config shapes the link; it applies to each direction alike.
type Config struct {
	Delay time.Duration // one-way propagation delay (RTT is twice this)
	Loss  float64       // probability that a packet is dropped, 0..1
	Rate  int64         // bytes per second; 0: as fast as the emulator runs
	Queue int           // packets queued at the rate limit before tail drop (default 1000)
}

// Link joins two namespaces, A (10.77.0.1) and B (10.77.0.2).
type Link struct {
	A, B   *Side
	cfg    atomic.Pointer[Config]
	cut    atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  [2]dirStats
}

type dirStats struct{ forwarded, dropped atomic.Int64 }

// Side is one end of the link: a network namespace and its TUN device.
type Side struct {
	IP  net.IP
	ns  *os.File
	tun *os.File
}

const (
	tunName = "sgemu0"
	mtu     = 1500
)

// bufs holds packet buffers: the device has no offloads, so no packet is
// longer than the MTU.
var bufs = sync.Pool{New: func() any { return make([]byte, 2048) }}

// New builds the link and starts forwarding. Close tears it down; the
// namespaces vanish with their last file descriptor, so nothing outlives
// the process even if Close is never called.
func New(cfg Config) (*Link, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("linkemu: needs root for network namespaces and TUN devices")
	}
	for _, tool := range []string{"nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("linkemu: %s not found (util-linux, iproute2): %w", tool, err)
		}
	}
	l := &Link{}
	l.Set(cfg)
	var err error
	if l.A, err = newSide(net.IPv4(10, 77, 0, 1)); err != nil {
		return nil, err
	}
	if l.B, err = newSide(net.IPv4(10, 77, 0, 2)); err != nil {
		l.A.close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() { l.forward(ctx, l.A.tun, l.B.tun, &l.stats[0]) })
	l.wg.Go(func() { l.forward(ctx, l.B.tun, l.A.tun, &l.stats[1]) })
	return l, nil
}

// Set changes the link's shape from now on.
func (l *Link) Set(cfg Config) {
	if cfg.Queue <= 0 {
		cfg.Queue = 1000
	}
	l.cfg.Store(&cfg)
}

// Cut drops every packet in both directions until Restore.
func (l *Link) Cut() { l.cut.Store(true) }

// Restore ends a Cut.
func (l *Link) Restore() { l.cut.Store(false) }

// Stats reports packets forwarded and dropped, A→B and B→A.
func (l *Link) Stats() (forwarded, dropped [2]int64) {
	for i := range l.stats {
		forwarded[i], dropped[i] = l.stats[i].forwarded.Load(), l.stats[i].dropped.Load()
	}
	return
}

// Close stops forwarding and removes both namespaces.
func (l *Link) Close() error {
	l.cancel()
	l.A.tun.Close() // unblocks the readers
	l.B.tun.Close()
	l.wg.Wait()
	l.A.ns.Close()
	l.B.ns.Close()
	return nil
}

type packet struct {
	due time.Time
	b   []byte
}

// forward carries packets from one device to the other. Packets keep their
// order: a constant delay and a FIFO rate limit never reorder.
func (l *Link) forward(ctx context.Context, from, to *os.File, st *dirStats) {
	cfg := l.cfg.Load()
	q := make(chan packet, 1<<16)
	done := make(chan struct{})
	go func() { // the far end of the wire
		defer close(done)
		for p := range q {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			to.Write(p.b)
			bufs.Put(p.b[:cap(p.b)])
		}
	}()
	defer func() { close(q); <-done }()
	var busyUntil time.Time // when the rate limit has sent all queued bytes
	for ctx.Err() == nil {
		b := bufs.Get().([]byte)
		n, err := from.Read(b)
		if err != nil {
			return
		}
		now := time.Now()
		if c := l.cfg.Load(); c != cfg {
			cfg = c
		}
		if l.cut.Load() || (cfg.Loss > 0 && rand.Float64() < cfg.Loss) {
			st.dropped.Add(1)
			bufs.Put(b)
			continue
		}
		depart := now
		if cfg.Rate > 0 {
			busyUntil = maxTime(busyUntil, now)
			if queued := int64(busyUntil.Sub(now)) * cfg.Rate / int64(time.Second); queued > int64(cfg.Queue)*mtu {
				st.dropped.Add(1) // the bottleneck's queue is full
				bufs.Put(b)
				continue
			}
			busyUntil = busyUntil.Add(time.Duration(int64(n) * int64(time.Second) / cfg.Rate))
			depart = busyUntil
		}
		select {
		case q <- packet{due: depart.Add(cfg.Delay), b: b[:n]}:
			st.forwarded.Add(1)
		default:
			st.dropped.Add(1)
			bufs.Put(b)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Do runs f with the calling goroutine inside the side's namespace:
// sockets f opens belong to that namespace for good.
func (s *Side) Do(f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("linkemu: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(int(s.ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("linkemu: enter namespace: %w", err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with the goroutine rather
		// than run other goroutines in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("linkemu: leave namespace: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// ListenUDP opens a UDP socket on the side's address (port 0: any).
func (s *Side) ListenUDP(port int) (*net.UDPConn, error) {
	var c *net.UDPConn
	err := s.Do(func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: s.IP, Port: port})
		return err
	})
	return c, err
}

// Listen opens a TCP listener on the side's address.
func (s *Side) Listen(port int) (net.Listener, error) {
	var ln net.Listener
	err := s.Do(func() (err error) {
		ln, err = net.Listen("tcp4", net.JoinHostPort(s.IP.String(), fmt.Sprint(port)))
		return err
	})
	return ln, err
}

// Dial opens a TCP connection from the side; control, if set, runs on the
// socket before it connects (to choose its congestion control, say).
func (s *Side) Dial(ctx context.Context, addr string, control func(fd uintptr) error) (net.Conn, error) {
	d := net.Dialer{}
	if control != nil {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var cerr error
			if err := c.Control(func(fd uintptr) { cerr = control(fd) }); err != nil {
				return err
			}
			return cerr
		}
	}
	var c net.Conn
	err := s.Do(func() (err error) {
		c, err = d.DialContext(ctx, "tcp4", addr)
		return err
	})
	return c, err
}

// newSide makes a namespace with a configured TUN device in it.
func newSide(ip net.IP) (*Side, error) {
	s := &Side{IP: ip}
	// A locked thread unshares into a new namespace, creates the device
	// there and is then thrown away (never unlocked), so no goroutine
	// runs in the new namespace by accident.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("linkemu: new network namespace: %w", err)
			}
			ns, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
			if err != nil {
				return fmt.Errorf("linkemu: %w", err)
			}
			s.ns = ns
			s.tun, err = openTUN(tunName)
			return err
		}()
	}()
	if err := <-errc; err != nil {
		s.close()
		return nil, err
	}
	peer := net.IPv4(10, 77, 0, 3-ip.To4()[3])
	script := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", ip.String(), "peer", peer.String(), "dev", tunName},
		{"ip", "link", "set", tunName, "mtu", fmt.Sprint(mtu), "txqueuelen", "1000", "up"},
	}
	for _, argv := range script {
		cmd := exec.Command("nsenter", append([]string{"--net=/proc/self/fd/3", "--"}, argv...)...)
		cmd.ExtraFiles = []*os.File{s.ns}
		if out, err := cmd.CombinedOutput(); err != nil {
			s.close()
			return nil, fmt.Errorf("linkemu: %v: %w: %s", argv, err, out)
		}
	}
	return s, nil
}

func (s *Side) close() {
	if s.tun != nil {
		s.tun.Close()
	}
	if s.ns != nil {
		s.ns.Close()
	}
}

// openTUN creates a layer-3 TUN device (no packet information header) in
// the calling thread's namespace.
func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("linkemu: open /dev/net/tun: %w", err)
	}
	var req struct {
		name  [unix.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); errno != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("linkemu: create TUN device: %w", errno)
	}
	if err := unix.SetNonblock(fd, true); err != nil { // so reads go through the runtime poller and Close unblocks them
		unix.Close(fd)
		return nil, fmt.Errorf("linkemu: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}
