// kpfranz - franz-go (kgo, kadm) as a reference client for kpipe's tests.
//
//	kpfranz -b BOOTSTRAP [-codec C] [-no-idempotence] create TOPIC PARTITIONS
//	kpfranz -b BOOTSTRAP list
//	kpfranz -b BOOTSTRAP [-codec C] [-no-idempotence] produce TOPIC   < records
//	kpfranz -b BOOTSTRAP [-timeout D] consume TOPIC
//
// Records are JSON lines in the format of tests/peers/java/Rec.java: keys,
// values and header values are strings of ISO-8859-1 characters (one a byte)
// or null; header keys are plain strings.
//
// create: kadm CreateTopics (replication factor 1); prints {"topic", "partitions", "error"}.
// list: kadm ListTopics; prints {"topics": [{"name", "partitions"}...]} sorted by name.
// produce: reads {"k", "v", "h", "p"?} lines and produces them all (kgo, acks=all; with
// "p" in every record, to that partition) and prints {"p", "o", "t"} for each, in input order.
// consume: kadm ListStartOffsets/ListEndOffsets, then a kgo client consuming the assigned
// partitions from their start until each reaches its end offset; prints
// {"starts": {...}, "ends": {...}} then one record line a record.
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
	"os"
	"sort"
	"strconv"
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
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: kpfranz -b BOOTSTRAP create TOPIC PARTITIONS | list | produce TOPIC | consume TOPIC")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	out := json.NewEncoder(stdout)
	out.SetEscapeHTML(false)
	defer stdout.Flush()

	opts := []kgo.Opt{kgo.SeedBrokers(*bootstrap), kgo.RequiredAcks(kgo.AllISRAcks())}
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
	case args[0] == "produce" && len(args) == 2:
		produce(ctx, opts, args[1], out)
	case args[0] == "consume" && len(args) == 2:
		consume(ctx, opts, args[1], out)
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
		var in inRecord
		check(json.Unmarshal(sc.Bytes(), &in))
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
			manual = true
			r.Partition = *in.P
		}
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
