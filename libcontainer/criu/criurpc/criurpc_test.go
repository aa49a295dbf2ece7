package criurpc

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// The golden messages were encoded by go-criu v7.2.0's rpc package with
// protobuf-go v1.34.2 (deterministic marshalling), which rt used before
// this package: requests must come out byte for byte the same, replies
// must read the same.

var goldenReqs = []struct {
	name string
	hex  string
	req  Req
}{
	{
		name: "dump with every option rt sets",
		hex: "0801129402080710b960180020002801380040014804520864756d702e6c6f675a0e0a0831302e302e302e31108dd50160016a132f7661722f6c69622f" +
			"6374722f726f6f74667372092e2e2f706172656e747801800100880108900101ba01180a0a2f6574632f686f737473120a2f6574632f686f737473ba01" +
			"180a0b2f70726f632f6b636f726512092f6465762f6e756c6cc00101900203aa021c6e65745b343032363533313834305d3a657874526f6f744e65744e" +
			"53aa021c7069645b343032363533313833365d3a657874526f6f745069644e53b0028080808004e2021c2f7379732f66732f6367726f75702f66726565" +
			"7a65722f72742f63318003009003019a03132f6574632f637269752f72756e632e636f6e66",
		req: Req{Type: ReqDump, Opts: &Opts{
			ImagesDirFd: 7, WorkDirFd: new(int32(8)), LogFile: "dump.log", LogLevel: 4, Pid: 12345,
			Root: "/var/lib/ctr/rootfs", LeaveRunning: new(false), LinkRemap: new(true),
			ManageCgroups: new(true), ManageCgroupsMode: new(CgSoft), NotifyScripts: new(true),
			ShellJob: new(false), TCPEstablished: new(true), ExtUnixSk: new(false), FileLocks: new(true),
			EmptyNs: 0x40000000, OrphanPtsMaster: new(true), AutoDedup: new(false), LazyPages: new(false),
			ConfigFile: "/etc/criu/runc.conf", FreezeCgroup: "/sys/fs/cgroup/freezer/rt/c1",
			Ps:        &PageServerInfo{Address: "10.0.0.1", Port: 27277},
			ParentImg: "../parent", TrackMem: new(true),
			External: []string{"net[4026531840]:extRootNetNS", "pid[4026531836]:extRootPidNS"},
			ExtMnt:   []ExtMount{{"/etc/hosts", "/etc/hosts"}, {"/proc/kcore", "/dev/null"}},
		}},
	},
	{
		name: "pre-dump, images fd -1, cgroup mode 0",
		hex:  "0804121408ffffffffffffffffff01100148047801900200",
		req: Req{Type: ReqPreDump, Opts: &Opts{
			ImagesDirFd: -1, LogLevel: 4, ManageCgroupsMode: new(CgIgnore), TrackMem: new(true), Pid: 1,
		}},
	},
	{
		name: "restore with mounts, fds, namespaces, cgroup roots",
		hex: "080212e3020805200128003001380140004804520b726573746f72652e6c6f6760016a142f72756e2f72742f63312f637269752d726f6f7480010188" +
			"0100ba01120a052f6461746112092f7372762f64617461ba01160a092f6465762f6e756c6c12092f6465762f6e756c6cc00101ca01100a066d656d6f" +
			"727912062f72742f6331ca01210a0c6e616d653d73797374656d6412112f757365722e736c6963652f72742f6331ca01050a0012012fd00101da010e" +
			"0a0a706970653a5b3132335d1000da010e0a0a706970653a5b3132345d1002da01100a0c657874526f6f744e65744e531004900206b00280808080" +
			"04ba02150a03697063120e2f70726f632f312f6e732f697063ba02130a03757473120c2f72756e2f6e65746e732f78800301900301aa0313617070" +
			"61726d6f723a72742d64656661756c74fa032b73797374656d5f753a6f626a6563745f723a636f6e7461696e65725f66696c655f743a73303a6331" +
			"2c6332",
		req: Req{Type: ReqRestore, Opts: &Opts{
			ImagesDirFd: 5, LogFile: "restore.log", LogLevel: 4,
			ManageCgroups: new(true), ManageCgroupsMode: new(CgDefault), NotifyScripts: new(true),
			ShellJob: new(true), TCPEstablished: new(false), ExtUnixSk: new(true), FileLocks: new(false),
			EmptyNs: 0x40000000, OrphanPtsMaster: new(true), AutoDedup: new(true), LazyPages: new(true),
			EvasiveDevices: new(true), RstSibling: new(true), LsmProfile: "apparmor:rt-default",
			LsmMountContext: "system_u:object_r:container_file_t:s0:c1,c2", Root: "/run/rt/c1/criu-root",
			ExtMnt: []ExtMount{{"/data", "/srv/data"}, {"/dev/null", "/dev/null"}},
			InheritFd: []InheritFd{
				{Key: "pipe:[123]", Fd: 0}, {Key: "pipe:[124]", Fd: 2}, {Key: "extRootNetNS", Fd: 4},
			},
			JoinNs: []JoinNamespace{{"ipc", "/proc/1/ns/ipc"}, {"uts", "/run/netns/x"}},
			CgRoot: []CgroupRoot{{"memory", "/rt/c1"}, {"name=systemd", "/user.slice/rt/c1"}, {"", "/"}},
			// fd 0 is an fd: a pointer says it is set.
			WorkDirFd: new(int32(0)),
		}},
	},
	{
		name: "check",
		hex:  "0803120f080948025209636865636b2e6c6f67",
		req:  Req{Type: ReqCheck, Opts: &Opts{ImagesDirFd: 9, LogFile: "check.log", LogLevel: 2}},
	},
	{name: "notify answered", hex: "08061801", req: Req{Type: ReqNotify, NotifySuccess: true}},
	{name: "notify refused", hex: "08061800", req: Req{Type: ReqNotify}},
	{name: "version", hex: "080a", req: Req{Type: ReqVersion}},
	{name: "features", hex: "08092a0408011001", req: Req{Type: ReqFeatureCheck, Features: &Features{MemTrack: true, LazyPages: true}}},
	{name: "lazy pages feature", hex: "08092a021001", req: Req{Type: ReqFeatureCheck, Features: &Features{LazyPages: true}}},
}

// sameBytes: the golden reply holds only fields rt reads, sent the way
// Marshal sends them, so that Marshal gives it back.
var goldenResps = []struct {
	name      string
	hex       string
	resp      Resp
	sameBytes bool
}{
	{"dump (dump.restored skipped)", "080110011a020800", Resp{Type: ReqDump, Success: true}, false},
	{"restore (restore.pid skipped)", "080210012203089221", Resp{Type: ReqRestore, Success: true}, false},
	{"failure", "0801100038104a0f43616e27742064756d70207461736b",
		Resp{Type: ReqDump, CrErrno: 16, CrErrmsg: "Can't dump task"}, true},
	{"failure, negative errno (status skipped)", "0802100038ffffffffffffffffff0158feffffffffffffffff01",
		Resp{Type: ReqRestore, CrErrno: -1}, false},
	{"notify", "080610012a0d0a09706f73742d64756d70102a",
		Resp{Type: ReqNotify, Success: true, Notify: &Notify{Script: "post-dump", Pid: 42}}, true},
	{"notify without pid", "080610012a130a116f727068616e2d7074732d6d6173746572",
		Resp{Type: ReqNotify, Success: true, Notify: &Notify{Script: "orphan-pts-master"}}, true},
	{"version", "080a10015206080410022001",
		Resp{Type: ReqVersion, Success: true, Version: &Version{Major: 4, Minor: 2, Sublevel: 1}}, true},
	{"version from git (extra, name skipped)", "080a10015228080310131a1076332e31392d31322d676162636465662807320e42726f6e7a6520506561636f636b",
		Resp{Type: ReqVersion, Success: true, Version: &Version{Major: 3, Minor: 19, GitID: "v3.19-12-gabcdef"}}, false},
	{"features (false sent, pidfd_store skipped)", "080910014206080010011801",
		Resp{Type: ReqFeatureCheck, Success: true, Features: &Features{LazyPages: true}}, false},
	{"check", "08031001", Resp{Type: ReqCheck, Success: true}, true},
	{"page server (ps skipped)", "08051001320510d209184d", Resp{Type: ReqPageServer, Success: true}, false},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkDecode decodes the message in hex and compares it with want.
func checkDecode[M any, P interface {
	*M
	Unmarshal([]byte) error
}](t *testing.T, hexMsg string, want M) {
	t.Helper()
	var got M
	if err := P(&got).Unmarshal(unhex(t, hexMsg)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unmarshal:\n got %+v\nwant %+v", got, want)
	}
}

func TestGoldenRequests(t *testing.T) {
	for _, tt := range goldenReqs {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.req.Marshal()); got != tt.hex {
				t.Errorf("Marshal:\n got %s\nwant %s", got, tt.hex)
			}
			checkDecode(t, tt.hex, tt.req)
		})
	}
}

func TestGoldenReplies(t *testing.T) {
	for _, tt := range goldenResps {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, tt.hex, tt.resp)
			if enc := hex.EncodeToString(tt.resp.Marshal()); tt.sameBytes && enc != tt.hex {
				t.Errorf("Marshal:\n got %s\nwant %s", enc, tt.hex)
			}
		})
	}
}

// Fields rt does not know, of every wire type, anywhere in a reply, are
// skipped; so is a known field sent with another wire type, as protobuf does.
func TestUnknownFieldsSkipped(t *testing.T) {
	const check = "08031001" // type CHECK, success
	tests := []struct {
		name string
		hex  string
		want Resp
	}{
		{"varint", check + "a0069601", Resp{Type: ReqCheck, Success: true}},
		{"largest field number", "f8ffffff0f01" + check, Resp{Type: ReqCheck, Success: true}},
		{"fixed64", "610102030405060708" + check, Resp{Type: ReqCheck, Success: true}},
		{"bytes", check + "6a03616263", Resp{Type: ReqCheck, Success: true}},
		{"empty bytes", check + "6a00", Resp{Type: ReqCheck, Success: true}},
		{"group, nested", "73" + "0801" + "13" + "0d01020304" + "14" + "74" + check, Resp{Type: ReqCheck, Success: true}},
		{"fixed32", check + "7d01020304", Resp{Type: ReqCheck, Success: true}},
		{"cr_errmsg as a varint", check + "4801", Resp{Type: ReqCheck, Success: true}},
		{"inside notify", "080610012a" + "14" + "0a09706f73742d64756d70" + "7d00000000" + "102a" + "1a00",
			Resp{Type: ReqNotify, Success: true, Notify: &Notify{Script: "post-dump", Pid: 42}}},
		{"notify in two parts, merged", "080610012a0b0a09706f73742d64756d70" + "2a02102a",
			Resp{Type: ReqNotify, Success: true, Notify: &Notify{Script: "post-dump", Pid: 42}}},
		{"last value wins", check + "0801", Resp{Type: ReqDump, Success: true}},
		{"int32 truncated from 64 bits", "0806100138ffffffff0f", Resp{Type: ReqNotify, Success: true, CrErrno: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkDecode(t, tt.hex, tt.want) })
	}
}

func TestMalformedReply(t *testing.T) {
	const check = "08031001"
	tests := []malformed{
		{"empty", "", "required field type missing"},
		{"no success", "0803", "required field success missing"},
		{"truncated tag", check + "80", "tag: varint: truncated message"},
		{"truncated varint", "08", "field 1: varint: truncated message"},
		{"unfinished varint", "0880", "field 1: varint: truncated message"},
		{"varint past 64 bits", "08ffffffffffffffffff02", "varint longer than 64 bits"},
		{"field number 0", "0001" + check, "invalid field number 0"},
		{"field number past 2^29-1", "8080808010" + "01" + check, "invalid field number 536870912"},
		{"wire type 6", check + "0e00", "field 1: invalid wire type 6"},
		{"wire type 7", check + "6f00", "field 13: invalid wire type 7"},
		{"truncated length", check + "4a", "field 9 length: varint: truncated message"},
		{"length past the end", check + "4a0543616e", "field 9: length 5 past the end of the message (3 bytes left)"},
		{"huge length", check + "4affffffffffffffffff01", "past the end"},
		{"truncated fixed64", check + "61010203", "field 12: truncated message"},
		{"truncated fixed32", check + "7d0102", "field 15: truncated message"},
		{"group not ended", check + "730801", "group 14: truncated message"},
		{"group ended by another", check + "7314", "group 14 ended by the end of group 2"},
		{"end group alone", check + "74", "end of group 14 outside a group"},
		{"groups too deep", check + strings.Repeat("0b", 100) + strings.Repeat("0c", 100), "nested deeper than"},
		{"broken notify", "080610012a020a05", "CriuResp: notify: CriuNotify: field 1: length 5 past the end"},
		{"version without minor", "080a100152020804", "required field minor_number missing"},
		{"broken features", "08091001420108", "CriuResp: features: CriuFeatures: field 1: varint: truncated message"},
	}
	testMalformed(t, tests, &Resp{})
}

// The nested messages of a request report where they are broken.
func TestMalformedRequest(t *testing.T) {
	tests := []malformed{
		{"no type", "", "CriuReq: required field type missing"},
		{"opts without images fd", "08011200", "CriuReq: opts: CriuOpts: required field images_dir_fd missing"},
		{"empty ext mount", "08011205" + "0801" + "ba0100", "opts: CriuOpts: ext_mnt[0]: ExtMountMap: required field key missing"},
		{"cgroup root without path", "0802120a" + "0801" + "ca0105" + "0a03666f6f", "cg_root[0]: CgroupRoot: required field path missing"},
		{"inherit fd without fd", "0802120a" + "0801" + "da0105" + "0a03666f6f", "inherit_fd[0]: InheritFd: required field fd missing"},
		{"join ns without ns_file", "0802120a" + "0801" + "ba0205" + "0a03697063", "join_ns[0]: JoinNamespace: required field ns_file missing"},
	}
	testMalformed(t, tests, &Req{})
}

type malformed struct{ name, hex, wantErr string }

func testMalformed(t *testing.T, tests []malformed, m interface{ Unmarshal([]byte) error }) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Unmarshal(unhex(t, tt.hex))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// Messages print the names rpc.proto gives the enums.
func TestEnumNames(t *testing.T) {
	tests := []struct {
		v    interface{ String() string }
		want string
	}{
		{ReqDump, "DUMP"}, {ReqNotify, "NOTIFY"}, {ReqPreDump, "PRE_DUMP"}, {ReqFeatureCheck, "FEATURE_CHECK"},
		{ReqSinglePreDump, "SINGLE_PRE_DUMP"}, {ReqType(14), "14"}, {ReqType(-3), "-3"},
		{CgIgnore, "IGNORE"}, {CgDefault, "DEFAULT"}, {CgMode(7), "7"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.v, got, tt.want)
		}
	}
}
