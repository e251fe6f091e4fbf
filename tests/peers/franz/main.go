// kpfranz - franz-go (kgo, kadm) as a reference client for kpipe's tests.
//
//	kpfranz -b BOOTSTRAP [-codec C] [-no-idempotence] create TOPIC PARTITIONS
//	kpfranz -b BOOTSTRAP list
//	kpfranz -b BOOTSTRAP [-codec C] [-no-idempotence] produce TOPIC   < records
//	kpfranz -b BOOTSTRAP [-codec C] [-no-idempotence] [-delivery-timeout D] -stream produce TOPIC   < records
//	kpfranz -b BOOTSTRAP [-timeout D] consume TOPIC
//	kpfranz -b BOOTSTRAP [-timeout D] group-consume TOPIC GROUP
//
// -log LEVEL writes kgo's log (error, warn, info, debug) on stderr. BOOTSTRAP may list
// several brokers separated by commas.
//
// Records are JSON lines in the format of tests/peers/java/Rec.java: keys,
// values and header values are strings of ISO-8859-1 characters (one a byte)
// or null; header keys are plain strings.
//
// create: kadm CreateTopics (replication factor 1); prints {"topic", "partitions", "error"}.
// list: kadm ListTopics; prints {"topics": [{"name", "partitions"}...]} sorted by name.
// produce: reads {"k", "v", "h", "p"?} lines and produces them all (kgo, acks=all; with
// "p" in every record, to that partition) and prints {"p", "o", "t"} for each, in input order.
// produce -stream: produces each record as soon as its line is read (with "p" in the first
// record, every record names its partition) and prints each delivery report as kgo calls
// it back, flushed at once: {"i": INDEX, "p", "o", "t"} or {"i": INDEX, "error": MESSAGE},
// INDEX counting the input records from 0; at end of input it flushes and exits 1 if any
// record failed. -delivery-timeout D is kgo.RecordDeliveryTimeout (default: none, kgo's).
// consume: kadm ListStartOffsets/ListEndOffsets, then a kgo client consuming the assigned
// partitions from their start until each reaches its end offset; prints
// {"starts": {...}, "ends": {...}} then one record line a record.
// group-consume: one member of consumer group GROUP (kgo.ConsumerGroup, the classic
// protocol with kgo's default cooperative-sticky balancer; offsets reset to the start,
// autocommit every 200 ms, heartbeats every 500 ms) consuming TOPIC until its standard
// input reaches end of file (or dying when -timeout passes first); then it commits, leaves
// the group and exits 0. Not JSON: it prints "A P,P,..." with its whole assignment each time
// that changes and "M PARTITION OFFSET" a record.
//
// Exit status 0 on success, 1 on a failure (message on stderr), 2 on bad usage.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type inRecord struct {
	K json.RawMessage   `json:"k"`
	V json.RawMessage   `json:"v"`
	H []json.RawMessage `json:"h"`
	P *int32            `json:"p"`
}

// stdout is flushed on every exit, also by die.
var stdout = bufio.NewWriterSize(os.Stdout, 1<<16)

func die(format string, args ...any) {
	stdout.Flush()
	fmt.Fprintf(os.Stderr, "kpfranz: "+format+"\n", args...)
	os.Exit(1)
}

// latin1 is the JSON value standing for b: a string of one character a byte, or null.
func latin1(b []byte) any {
	if b == nil {
		return nil
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// bytesOf is the inverse of latin1 (nil for null or a missing field).
func bytesOf(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, errors.New("character above U+00FF in a byte string")
		}
		b = append(b, byte(r))
	}
	return b, nil
}

func main() {
	bootstrap := flag.String("b", "127.0.0.1:9092", "bootstrap broker")
	codec := flag.String("codec", "none", "producer compression: none, gzip, snappy, lz4, zstd")
	noIdem := flag.Bool("no-idempotence", false, "disable idempotent writes")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	stream := flag.Bool("stream", false, "produce: send each record as it is read, report each delivery as it comes")
	deliveryTimeout := flag.Duration("delivery-timeout", 0, "produce: kgo.RecordDeliveryTimeout (0: kgo's default)")
	logLevel := flag.String("log", "", "kgo's log on stderr: error, warn, info or debug")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kpfranz -b BOOTSTRAP create TOPIC PARTITIONS | list | produce TOPIC | consume TOPIC | group-consume TOPIC GROUP")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	out := json.NewEncoder(stdout)
	out.SetEscapeHTML(false)
	defer stdout.Flush()

	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(*bootstrap, ",")...), kgo.RequiredAcks(kgo.AllISRAcks())}
	switch *codec {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		fmt.Fprintf(os.Stderr, "kpfranz: unknown codec %q\n", *codec)
		os.Exit(2)
	}
	if *noIdem {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if *deliveryTimeout > 0 {
		opts = append(opts, kgo.RecordDeliveryTimeout(*deliveryTimeout))
	}
	if *logLevel != "" {
		lv, ok := map[string]kgo.LogLevel{"error": kgo.LogLevelError, "warn": kgo.LogLevelWarn,
			"info": kgo.LogLevelInfo, "debug": kgo.LogLevelDebug}[*logLevel]
		if !ok {
			fmt.Fprintf(os.Stderr, "kpfranz: bad -log %q\n", *logLevel)
			os.Exit(2)
		}
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, lv, nil)))
	}

	switch {
	case args[0] == "create" && len(args) == 3:
		n, err := strconv.Atoi(args[2])
		if err != nil {
			die("bad partition count %q", args[2])
		}
		cl := client(opts)
		defer cl.Close()
		adm := kadm.NewClient(cl)
		r, err := adm.CreateTopic(ctx, int32(n), 1, nil, args[1])
		res := map[string]any{"topic": r.Topic, "partitions": r.NumPartitions, "error": nil}
		if err == nil {
			err = r.Err
		}
		if err != nil {
			res["error"] = err.Error()
		}
		check(out.Encode(res))
	case args[0] == "list" && len(args) == 1:
		cl := client(opts)
		defer cl.Close()
		td, err := kadm.NewClient(cl).ListTopics(ctx)
		if err != nil {
			die("list topics: %v", err)
		}
		if err := td.Error(); err != nil {
			die("list topics: %v", err)
		}
		topics := []map[string]any{}
		for _, t := range td.Sorted() {
			topics = append(topics, map[string]any{"name": t.Topic, "partitions": len(t.Partitions)})
		}
		check(out.Encode(map[string]any{"topics": topics}))
	case args[0] == "produce" && len(args) == 2 && *stream:
		produceStream(ctx, opts, args[1], out)
	case args[0] == "produce" && len(args) == 2:
		produce(ctx, opts, args[1], out)
	case args[0] == "consume" && len(args) == 2:
		consume(ctx, opts, args[1], out)
	case args[0] == "group-consume" && len(args) == 3:
		groupConsume(ctx, opts, args[1], args[2])
	default:
		fmt.Fprintf(os.Stderr, "kpfranz: bad command %q\n", args)
		os.Exit(2)
	}
}

func client(opts []kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		die("new client: %v", err)
	}
	return cl
}

func check(err error) {
	if err != nil {
		die("%v", err)
	}
}

func produce(ctx context.Context, opts []kgo.Opt, topic string, out *json.Encoder) {
	var recs []*kgo.Record
	manual := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		r, part := record(topic, sc.Bytes())
		manual = manual || part
		recs = append(recs, r)
	}
	check(sc.Err())
	if manual {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl := client(opts)
	defer cl.Close()
	// ProduceSync's results come in completion order, not input order.
	for _, res := range cl.ProduceSync(ctx, recs...) {
		if res.Err != nil {
			die("record with key %q: %v", res.Record.Key, res.Err)
		}
	}
	for _, r := range recs {
		check(out.Encode(map[string]any{"p": r.Partition, "o": r.Offset,
			"t": r.Timestamp.UnixMilli()}))
	}
}

// record is the kgo record of one input line, and whether the line named its partition.
func record(topic string, line []byte) (*kgo.Record, bool) {
	var in inRecord
	check(json.Unmarshal(line, &in))
	r := &kgo.Record{Topic: topic}
	var err error
	if r.Key, err = bytesOf(in.K); err != nil {
		die("key: %v", err)
	}
	if r.Value, err = bytesOf(in.V); err != nil {
		die("value: %v", err)
	}
	for _, h := range in.H {
		var kv []json.RawMessage
		check(json.Unmarshal(h, &kv))
		if len(kv) != 2 {
			die("a header is [key, value]")
		}
		var hk string
		check(json.Unmarshal(kv[0], &hk))
		hv, err := bytesOf(kv[1])
		check(err)
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: hk, Value: hv})
	}
	if in.P != nil {
		r.Partition = *in.P
	}
	return r, in.P != nil
}

func produceStream(ctx context.Context, opts []kgo.Opt, topic string, out *json.Encoder) {
	var mu sync.Mutex // stdout: kgo calls promises of different partitions concurrently
	failed := 0
	var cl *kgo.Client
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for i := 0; sc.Scan(); {
		if len(sc.Bytes()) == 0 {
			continue
		}
		r, manual := record(topic, sc.Bytes())
		if cl == nil {
			if manual {
				opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			}
			cl = client(opts)
			defer cl.Close()
		}
		index := i
		i++
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				check(out.Encode(map[string]any{"i": index, "error": err.Error()}))
			} else {
				check(out.Encode(map[string]any{"i": index, "p": r.Partition, "o": r.Offset,
					"t": r.Timestamp.UnixMilli()}))
			}
			check(stdout.Flush())
		})
	}
	check(sc.Err())
	if cl != nil {
		if err := cl.Flush(ctx); err != nil {
			die("flush: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if failed > 0 {
		die("%d records failed", failed)
	}
}

func consume(ctx context.Context, opts []kgo.Opt, topic string, out *json.Encoder) {
	acl := client(opts)
	adm := kadm.NewClient(acl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		die("list start offsets: %v", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		die("list end offsets: %v", err)
	}
	acl.Close()

	startMap, endMap := map[string]int64{}, map[string]int64{}
	assign := map[int32]kgo.Offset{}
	next := map[int32]int64{}
	var parts []int32
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(topic, o.Partition)
		key := strconv.Itoa(int(o.Partition))
		startMap[key], endMap[key] = s.Offset, o.Offset
		parts = append(parts, o.Partition)
		next[o.Partition] = s.Offset
		assign[o.Partition] = kgo.NewOffset().At(s.Offset)
	})
	if len(parts) == 0 {
		die("no partitions for topic %s", topic)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	check(out.Encode(map[string]any{"starts": startMap, "ends": endMap}))

	cl := client(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
		kgo.FetchMaxWait(500*time.Millisecond)))
	defer cl.Close()
	done := func() bool {
		for _, p := range parts {
			if next[p] < endMap[strconv.Itoa(int(p))] {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			die("end not reached: %v (next offsets %v, ends %v)", ctx.Err(), next, endMap)
		}
		fs.EachError(func(t string, p int32, err error) {
			die("fetch %s[%d]: %v", t, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			hs := [][]any{}
			for _, h := range r.Headers {
				hs = append(hs, []any{h.Key, latin1(h.Value)})
			}
			check(out.Encode(map[string]any{"p": r.Partition, "o": r.Offset,
				"t": r.Timestamp.UnixMilli(), "k": latin1(r.Key), "v": latin1(r.Value), "h": hs}))
			next[r.Partition] = r.Offset + 1
		})
	}
}

func groupConsume(ctx context.Context, opts []kgo.Opt, topic, group string) {
	var mu sync.Mutex // stdout: the rebalance callbacks run in the group's goroutine
	current := map[int32]bool{}
	report := func(parts map[string][]int32, add bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range parts[topic] {
			if add {
				current[p] = true
			} else {
				delete(current, p)
			}
		}
		var ps []int
		for p := range current {
			ps = append(ps, int(p))
		}
		sort.Ints(ps)
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strconv.Itoa(p)
		}
		fmt.Fprintf(stdout, "A %s\n", strings.Join(s, ","))
		check(stdout.Flush())
	}
	cl := client(append(opts,
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(200*time.Millisecond),
		kgo.HeartbeatInterval(500*time.Millisecond), kgo.SessionTimeout(10*time.Second),
		kgo.FetchMaxWait(200*time.Millisecond),
		// Rebalances wait until what a poll returned is printed (AllowRebalance below).
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			report(m, true)
		}),
		// Overriding the default revoke callback drops its commit: do it here.
		kgo.OnPartitionsRevoked(func(cctx context.Context, c *kgo.Client, m map[string][]int32) {
			if err := c.CommitUncommittedOffsets(cctx); err != nil {
				fmt.Fprintf(os.Stderr, "kpfranz: commit on revoke: %v\n", err)
			}
			report(m, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			report(m, false)
		}),
	))
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	pctx, stop := context.WithCancel(ctx)
	go func() {
		<-eof
		stop()
	}()
	for {
		fs := cl.PollFetches(pctx)
		if ctx.Err() != nil {
			die("group-consume: standard input not closed within the timeout: %v", ctx.Err())
		}
		if pctx.Err() != nil {
			break
		}
		fs.EachError(func(t string, p int32, err error) {
			die("fetch %s[%d]: %v", t, p, err)
		})
		mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			fmt.Fprintf(stdout, "M %d %d\n", r.Partition, r.Offset)
		})
		check(stdout.Flush())
		mu.Unlock()
		cl.AllowRebalance()
	}
	cl.AllowRebalance()
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		die("group-consume: final commit: %v", err)
	}
	cl.Close()
}
