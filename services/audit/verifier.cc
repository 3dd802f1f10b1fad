#include "services/audit/verifier.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/audit/record_format.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

using iam::v1::AuditCheckpoint;
using iam::v1::AuditRecord;
using iam::v1::VerifyAuditResponse;

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes).substr(0, 16);
}

class Verification {
 public:
  Verification(const Store& store, const AuditPublicKey& key)
      : store_(store), key_(key) {}

  absl::StatusOr<VerifyAuditResponse> Run() {
    RETURN_IF_ERROR(LoadStart());
    RETURN_IF_ERROR(LoadCheckpoints());
    if (!out_.problem().empty()) return out_;
    RETURN_IF_ERROR(ReadRecords());
    if (out_.problem().empty()) out_.set_ok(true);
    return out_;
  }

 private:
  void Fail(int64_t sequence, std::string problem) {
    if (!out_.problem().empty()) return;
    out_.set_ok(false);
    out_.set_first_bad_sequence(sequence);
    out_.set_problem(std::move(problem));
  }

  absl::Status LoadStart() {
    absl::StatusOr<std::string> start = store_.Get(kAuditIndexColumn, kStartKey);
    if (absl::IsNotFound(start.status())) return absl::OkStatus();
    RETURN_IF_ERROR(start.status());
    if (!absl::SimpleAtoi(*start, &start_) || start_ < 1) {
      start_ = 1;
      Fail(0, "the retention start marker (meta/start) is malformed");
    }
    return absl::OkStatus();
  }

  absl::Status LoadCheckpoints() {
    absl::Status error;
    RETURN_IF_ERROR(store_.Scan(
        kAuditIndexColumn, kCheckpointPrefix,
        [&](absl::string_view key, absl::string_view value) {
          absl::StatusOr<int64_t> seq = ParseSequenceKey(kCheckpointPrefix, key);
          AuditCheckpoint cp;
          if (!seq.ok() ||
              !cp.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
              cp.sequence() != *seq) {
            Fail(0, absl::StrCat("checkpoint at key ", absl::CHexEscape(key),
                                 " was changed (it does not parse or names "
                                 "another sequence)"));
            return false;
          }
          if (cp.key_fingerprint() != key_.fingerprint()) {
            Fail(0, absl::StrCat(
                        "checkpoint at sequence ", cp.sequence(),
                        " was signed by another key (fingerprint ",
                        Hex(cp.key_fingerprint()), "..., expected ",
                        Hex(key_.fingerprint()), "...)"));
            return false;
          }
          if (!key_.Verify(CheckpointSignedBytes(cp), cp.signature())) {
            Fail(0, absl::StrCat("checkpoint at sequence ", cp.sequence(),
                                 " has an invalid signature (it was changed "
                                 "or forged)"));
            return false;
          }
          checkpoints_[cp.sequence()] = cp;
          return true;
        }));
    out_.set_checkpoints_checked(static_cast<int64_t>(checkpoints_.size()));
    return error;
  }

  // Streams the records through OnRecord, then Finish.
  absl::Status ReadRecords() {
    if (!StartChain()) return absl::OkStatus();
    RETURN_IF_ERROR(store_.Scan(
        kAuditColumn, kRecordPrefix,
        [&](absl::string_view key, absl::string_view value) {
          absl::StatusOr<int64_t> seq = ParseSequenceKey(kRecordPrefix, key);
          if (!seq.ok()) {
            Fail(0, std::string(seq.status().message()));
            return false;
          }
          return OnRecord(*seq, value);
        }));
    Finish();
    return absl::OkStatus();
  }

  bool StartChain() {
    prev_hash_ = GenesisHash();
    if (start_ > 1) {
      auto it = checkpoints_.find(start_ - 1);
      if (it == checkpoints_.end()) {
        Fail(start_, absl::StrCat("the log starts at sequence ", start_,
                                  " but no signed checkpoint at ", start_ - 1,
                                  " anchors it: records before ", start_,
                                  " were removed outside retention"));
        return false;
      }
      prev_hash_ = it->second.head_hash();
    }
    expected_ = start_;
    return true;
  }

  // A record whose prev_hash did not match: either its predecessor changed
  // (its hash moved) or it did (its prev_hash field). If it still links to
  // its successor (or to a checkpoint), it is intact and the predecessor is
  // the one changed.
  void Blame(bool self_intact) {
    const int64_t seq = suspect_sequence_;
    if (self_intact && seq > start_) {
      Fail(seq - 1, absl::StrCat("record ", seq - 1,
                                 " was changed: its hash no longer matches "
                                 "the prev_hash that record ",
                                 seq, " carries"));
    } else {
      Fail(seq, absl::StrCat("record ", seq,
                             " was changed: its prev_hash does not match the "
                             "hash of the record before it"));
    }
  }

  bool OnRecord(int64_t key_seq, absl::string_view bytes) {
    if (suspect_sequence_ > 0) {
      AuditRecord next;
      Blame(next.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
            next.prev_hash() == suspect_hash_);
      return false;
    }
    if (key_seq < start_) return true;  // being pruned
    if (key_seq > expected_) {
      Fail(expected_, key_seq == expected_ + 1
                          ? absl::StrCat("record ", expected_, " was removed")
                          : absl::StrCat("records ", expected_, "..",
                                         key_seq - 1, " were removed"));
      return false;
    }
    AuditRecord record;
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      Fail(key_seq,
           absl::StrCat("record ", key_seq, " was changed: it no longer parses"));
      return false;
    }
    if (record.sequence() != key_seq) {
      Fail(key_seq, absl::StrCat("record ", key_seq, " was reordered: key ",
                                 key_seq, " holds the record of sequence ",
                                 record.sequence()));
      return false;
    }
    const std::string hash = Sha256(bytes);
    if (record.prev_hash() != prev_hash_) {
      suspect_sequence_ = key_seq;
      suspect_hash_ = hash;
      return true;  // the next record decides who is to blame
    }
    prev_hash_ = hash;
    auto cp = checkpoints_.find(key_seq);
    if (cp != checkpoints_.end() && cp->second.head_hash() != prev_hash_) {
      Fail(key_seq, absl::StrCat("record ", key_seq,
                                 " was changed: its hash differs from the "
                                 "signed checkpoint at ",
                                 key_seq));
      return false;
    }
    if (out_.records_checked() == 0) out_.set_first_sequence(key_seq);
    out_.set_records_checked(out_.records_checked() + 1);
    out_.set_last_sequence(key_seq);
    ++expected_;
    return true;
  }

  void Finish() {
    if (!out_.problem().empty()) return;
    if (suspect_sequence_ > 0) {
      auto cp = checkpoints_.find(suspect_sequence_);
      Blame(cp != checkpoints_.end() && cp->second.head_hash() == suspect_hash_);
      return;
    }
    const int64_t last = expected_ - 1;
    int64_t last_checkpoint = 0;
    if (!checkpoints_.empty()) last_checkpoint = checkpoints_.rbegin()->first;
    if (last_checkpoint > last) {
      Fail(last + 1,
           last + 1 == last_checkpoint
               ? absl::StrCat("record ", last + 1,
                              " was removed (a signed checkpoint covers it)")
               : absl::StrCat("records ", last + 1, "..", last_checkpoint,
                              " were removed (a signed checkpoint covers "
                              "them)"));
      return;
    }
    out_.set_unsigned_tail(last - std::max(last_checkpoint, start_ - 1));
  }

  const Store& store_;
  const AuditPublicKey& key_;
  int64_t start_ = 1;
  std::map<int64_t, AuditCheckpoint> checkpoints_;
  std::string prev_hash_;
  int64_t expected_ = 1;
  // A record whose link to its predecessor broke, and its hash.
  int64_t suspect_sequence_ = 0;
  std::string suspect_hash_;
  VerifyAuditResponse out_;
};

}  // namespace

absl::StatusOr<VerifyAuditResponse> VerifyAuditLog(const Store& store,
                                                   const AuditPublicKey& key) {
  return Verification(store, key).Run();
}

}  // namespace iam::audit
