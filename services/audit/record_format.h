// How the audit log lays out its data in the Store's "audit" column, and the
// canonical bytes and hashes its chain is built from. Shared by the writer
// (StoreAuditLog), the verifier and the exporter so they cannot disagree.
//
// Keys (sequence numbers as 20 zero-padded digits, so key order is sequence
// order):
//   rec/<seq>                  the record's canonical bytes
//   ckpt/<seq>                 a signed AuditCheckpoint of the chain head at seq
//   ix/p/<person>\0<seq>       index: records about a person (also the people
//                              of a BatchCheck's decisions)
//   ix/c/<caller>\0<seq>       index: records by caller
//   ix/g/<target>\0<seq>       index: records by target
//   ix/a/<seq>                 index: alert records
//
// An index entry is a posting: its key names the index value and the first
// sequence it lists; its value lists the further sequences (ascending,
// within kMaxPostingSpan of the first) as varint deltas, empty for one.
// One posting per value and indexer write keeps the entries few when a
// value recurs (a caller, a target, the people of batch checks).
//   meta/start                 first retained sequence, after pruning
//   meta/indexed               every record up to this sequence has its ix/
//                              entries (written after the records, unsynced,
//                              by the log's indexer; Open indexes the rest)
//
// There is no time index: the writer never lets a record's time go below its
// predecessor's, so a time range is a sequence range, found by a binary
// search over rec/.
//
// Canonical bytes: the deterministic protobuf serialization of the record
// (fields in number order, nothing unknown), with prev_hash set and
// reason_erased unset. The hash of a record is SHA-256 of those bytes as
// stored. A checkpoint signs the deterministic serialization of its
// AuditCheckpoint with `signature` cleared.
//
// Stateless functions; thread-safe.
#ifndef IAM_SERVICES_AUDIT_RECORD_FORMAT_H_
#define IAM_SERVICES_AUDIT_RECORD_FORMAT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/audit.pb.h"
#include "services/common/store.h"

namespace iam::audit {

inline constexpr absl::string_view kRecordPrefix = "rec/";
inline constexpr absl::string_view kCheckpointPrefix = "ckpt/";
inline constexpr absl::string_view kPersonIndex = "ix/p/";
inline constexpr absl::string_view kCallerIndex = "ix/c/";
inline constexpr absl::string_view kTargetIndex = "ix/g/";
inline constexpr absl::string_view kAlertIndex = "ix/a/";
inline constexpr absl::string_view kStartKey = "meta/start";
inline constexpr absl::string_view kIndexedKey = "meta/indexed";
// In kAuditIndexColumn once it holds every checkpoint, posting and marker:
// kLayoutCopied while copies may remain in kAuditColumn (a data directory
// written before the columns were split, 2026-12), kLayoutSplit after.
inline constexpr absl::string_view kLayoutKey = "meta/layout";
inline constexpr absl::string_view kLayoutCopied = "copied";
inline constexpr absl::string_view kLayoutSplit = "split";
// The prefixes of every key that is not a record.
inline constexpr absl::string_view kIndexColumnPrefixes[] = {
    kCheckpointPrefix, "ix/", "meta/"};
inline constexpr size_t kHashBytes = 32;

// The column a key of the audit log lives in: records in kAuditColumn,
// everything else (checkpoints, postings, markers) in kAuditIndexColumn.
inline absl::string_view ColumnOf(absl::string_view key) {
  return key.substr(0, kRecordPrefix.size()) == kRecordPrefix
             ? kAuditColumn
             : kAuditIndexColumn;
}

// "<prefix><seq as 20 digits>".
std::string SequenceKey(absl::string_view prefix, int64_t sequence);
// The sequence of such a key, or DATA_LOSS naming the key.
absl::StatusOr<int64_t> ParseSequenceKey(absl::string_view prefix,
                                         absl::string_view key);
inline std::string RecordKey(int64_t sequence) {
  return SequenceKey(kRecordPrefix, sequence);
}
inline std::string CheckpointKey(int64_t sequence) {
  return SequenceKey(kCheckpointPrefix, sequence);
}

// "<index><value>\0" : the prefix of one value's entries in an index.
std::string IndexValuePrefix(absl::string_view index, absl::string_view value);
// The sequence at the end of an index key (its last 20 characters).
absl::StatusOr<int64_t> IndexKeySequence(absl::string_view key);

// A posting lists sequences in [first, first + kMaxPostingSpan). Queries
// seek this far back from where they start. It was 20,000 until the index
// window grew to 65,536 records (2026-12); a wider span reads the older,
// narrower postings as they are.
inline constexpr int64_t kMaxPostingSpan = int64_t{1} << 17;

// The index prefixes ("<index><value>\0", or kAlertIndex) a stored record
// is listed under.
std::vector<std::string> IndexPrefixes(const iam::v1::AuditRecord& record);
// The posting value for `sequences` (ascending; the first is in the key).
std::string EncodePosting(const std::vector<int64_t>& sequences);
// The sequences of a posting (key and value), ascending; DATA_LOSS if
// malformed.
absl::StatusOr<std::vector<int64_t>> DecodePosting(absl::string_view key,
                                                   absl::string_view value);

// (index prefix, sequence) pairs, in sequence order.
using IndexEntries = std::vector<std::pair<std::string, int64_t>>;
// Appends the entries of a stored record (record.sequence() is set).
void AppendIndexEntries(const iam::v1::AuditRecord& record, IndexEntries* out);

// Collects (prefix, sequence) entries and turns them into posting puts.
class PostingBuilder {
 public:
  void Add(const iam::v1::AuditRecord& record);  // record.sequence() is set
  // Sequences come in ascending order per prefix; one not above the last
  // of its prefix (a repeat) is ignored.
  void Add(std::string prefix, int64_t sequence);
  bool empty() const { return sequences_.empty(); }
  // One (key, value) per prefix and run of sequences within
  // kMaxPostingSpan, sorted by key; clears the builder.
  std::vector<std::pair<std::string, std::string>> TakePuts();

 private:
  absl::flat_hash_map<std::string, std::vector<int64_t>> sequences_;
};

// The record's canonical bytes (see above).
std::string CanonicalBytes(const iam::v1::AuditRecord& record);
// Deterministic serialization of a checkpoint without its signature.
std::string CheckpointSignedBytes(const iam::v1::AuditCheckpoint& checkpoint);
std::string DeterministicBytes(const google::protobuf::MessageLite& message);

// SHA-256 of `data` (32 raw bytes).
std::string Sha256(absl::string_view data);
// The prev_hash of sequence 1.
std::string GenesisHash();

// The value of a record's label, or "".
absl::string_view LabelValue(const iam::v1::AuditRecord& record,
                             absl::string_view key);

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_RECORD_FORMAT_H_
