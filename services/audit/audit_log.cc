#include "services/audit/audit_log.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/json_util.h"
#include "services/audit/index_layout.h"
#include "services/audit/record_format.h"
#include "services/audit/verifier.h"
#include "services/common/status_macros.h"

namespace iam::audit {

using iam::v1::AuditCheckpoint;
using iam::v1::AuditRecord;
using iam::v1::QueryAuditRequest;
using iam::v1::QueryAuditResponse;
using iam::v1::TailAuditRequest;
using iam::v1::TailAuditResponse;

struct StoreAuditLog::Pending {
  enum class Type { kRecord, kBarrier, kErase };
  Type type = Type::kRecord;
  AuditRecord record;
  AppendCallback done;  // null for buffered records
  bool sync = false;    // needs a synced write
  WriteBatch with;      // applied in the record's write
  // Set for a change record (AppendChangeThen): receives the revision its
  // write commits at, which the record then carries.
  std::shared_ptr<Revision> change_revision;
  std::string erase_person;
};

namespace {

constexpr absl::string_view kPageTokenPrefix = "a:";
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxExportRecords = 10000;
constexpr int64_t kMaxSequence = std::numeric_limits<int64_t>::max();
constexpr int kFailuresPerLogLine = 100;
// Index postings per unsynced write of the indexer.
constexpr size_t kIndexEntriesPerWrite = 128;
constexpr char kEraseAction[] = "audit.person.erase";

// The sequence of the first key at or after `from` under `prefix`, or -1.
absl::StatusOr<int64_t> FirstSequenceFrom(const Store& store,
                                          absl::string_view prefix,
                                          int64_t from) {
  absl::StatusOr<int64_t> found = -1;
  RETURN_IF_ERROR(store.ScanFrom(ColumnOf(prefix), prefix, SequenceKey(prefix, from),
                                 [&](absl::string_view key, absl::string_view) {
                                   found = ParseSequenceKey(prefix, key);
                                   return false;
                                 }));
  return found;
}

// The highest sequence under `prefix`, or 0. The Store only scans forwards,
// so this binary-searches with seeks: about 64 of them, one key each.
absl::StatusOr<int64_t> LastSequence(const Store& store,
                                     absl::string_view prefix) {
  ASSIGN_OR_RETURN(int64_t low, FirstSequenceFrom(store, prefix, 0));
  if (low < 0) return 0;
  int64_t high = kMaxSequence;
  while (low < high) {
    const int64_t mid = low + (high - low) / 2 + 1;
    ASSIGN_OR_RETURN(const int64_t found, FirstSequenceFrom(store, prefix, mid));
    if (found >= 0) {
      low = found;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

absl::StatusOr<int64_t> StartSequence(const Store& store) {
  absl::StatusOr<std::string> start = store.Get(kAuditIndexColumn, kStartKey);
  if (absl::IsNotFound(start.status())) return 1;
  RETURN_IF_ERROR(start.status());
  int64_t value = 0;
  if (!absl::SimpleAtoi(*start, &value) || value < 1) {
    return absl::DataLossError("the audit log's start marker is malformed");
  }
  return value;
}

std::string EncodePageToken(int64_t last_sequence) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, last_sequence));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token) {
  std::string decoded;
  int64_t sequence = -1;
  if (absl::WebSafeBase64Unescape(token, &decoded)) {
    absl::string_view rest = decoded;
    if (!absl::ConsumePrefix(&rest, kPageTokenPrefix) || rest.empty() ||
        !std::all_of(rest.begin(), rest.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(rest, &sequence)) {
      sequence = -1;
    }
  }
  if (sequence < 0 || sequence == kMaxSequence) {
    return absl::InvalidArgumentError(
        "page_token is malformed; pass the next_page_token of an earlier "
        "response, or an empty token for the first page");
  }
  return sequence;
}

absl::Status ValidateOutcome(iam::v1::AuditOutcome outcome) {
  if (!iam::v1::AuditOutcome_IsValid(outcome)) {
    return absl::InvalidArgumentError(
        absl::StrCat("outcome ", outcome, " is not a known AuditOutcome"));
  }
  return absl::OkStatus();
}

absl::Status ValidateQuery(const QueryAuditRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 1 and ", kMaxPageSize,
                     " (0 means ", kDefaultPageSize, "); got ",
                     request.page_size()));
  }
  if (request.since_unix_micros() < 0 || request.until_unix_micros() < 0) {
    return absl::InvalidArgumentError(
        "since_unix_micros and until_unix_micros must not be negative (0 "
        "means unbounded)");
  }
  if (request.since_unix_micros() != 0 && request.until_unix_micros() != 0 &&
      request.since_unix_micros() > request.until_unix_micros()) {
    return absl::InvalidArgumentError(
        absl::StrCat("since_unix_micros (", request.since_unix_micros(),
                     ") is after until_unix_micros (",
                     request.until_unix_micros(), ")"));
  }
  return ValidateOutcome(request.outcome());
}

// The filters Query and Tail share.
struct Filter {
  std::string person_id, caller, action_prefix, target;
  iam::v1::AuditOutcome outcome = iam::v1::AUDIT_OUTCOME_UNSPECIFIED;
  bool alerts_only = false;
  int64_t since = 0, until = 0;

  bool Matches(const AuditRecord& r) const {
    if (!person_id.empty() && r.person_id() != person_id) {
      bool in_decisions = false;
      for (const auto& d : r.decisions()) {
        if (d.person_id() == person_id) in_decisions = true;
      }
      if (!in_decisions) return false;
    }
    return (caller.empty() || r.caller() == caller) &&
           absl::StartsWith(r.action(), action_prefix) &&
           (target.empty() || r.target() == target) &&
           (outcome == iam::v1::AUDIT_OUTCOME_UNSPECIFIED ||
            r.outcome() == outcome) &&
           (!alerts_only || r.kind() == iam::v1::AUDIT_RECORD_KIND_ALERT) &&
           (since == 0 || r.time_unix_micros() >= since) &&
           (until == 0 || r.time_unix_micros() <= until);
  }

  // The narrowest index for these filters: its key prefix (empty: none).
  std::string IndexPrefix() const {
    if (!person_id.empty()) return IndexValuePrefix(kPersonIndex, person_id);
    if (!target.empty()) return IndexValuePrefix(kTargetIndex, target);
    if (!caller.empty()) return IndexValuePrefix(kCallerIndex, caller);
    if (alerts_only) return std::string(kAlertIndex);
    return "";
  }
};

Filter FromQuery(const QueryAuditRequest& r) {
  Filter f;
  f.person_id = r.person_id();
  f.caller = r.caller();
  f.action_prefix = r.action_prefix();
  f.target = r.target();
  f.outcome = r.outcome();
  f.alerts_only = r.alerts_only();
  f.since = r.since_unix_micros();
  f.until = r.until_unix_micros();
  return f;
}

Filter FromTail(const TailAuditRequest& r) {
  Filter f;
  f.person_id = r.person_id();
  f.caller = r.caller();
  f.action_prefix = r.action_prefix();
  f.target = r.target();
  f.outcome = r.outcome();
  f.alerts_only = r.alerts_only();
  return f;
}

std::string AssociatedData(int64_t sequence) {
  std::string out(8, '\0');
  uint64_t v = static_cast<uint64_t>(sequence);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// Calls fn(sequence) for the candidate records in [from, to] (to 0:
// unbounded) in sequence order, until fn returns false: those `sources`
// lists, then every record it does not cover; with no index prefix, every
// record.
absl::Status ForEachCandidate(const Store& store,
                              const StoreAuditLog::IndexView& sources,
                              int64_t from, int64_t to,
                              const std::function<bool(int64_t)>& fn) {
  absl::Status error;
  bool stopped = false;
  auto scan_records = [&](int64_t first) -> absl::Status {
    return store.ScanFrom(
        kAuditColumn, kRecordPrefix, RecordKey(first),
        [&](absl::string_view key, absl::string_view) {
          absl::StatusOr<int64_t> seq = ParseSequenceKey(kRecordPrefix, key);
          if (!seq.ok()) {
            error = seq.status();
            return false;
          }
          if (to != 0 && *seq > to) return false;
          return fn(*seq);
        });
  };
  if (sources.prefix.empty()) {
    RETURN_IF_ERROR(scan_records(from));
    return error;
  }
  const int64_t indexed = sources.indexed;
  const int64_t index_end = to == 0 ? indexed : std::min(to, indexed);
  if (from <= index_end) {
    // A posting that starts up to kMaxPostingSpan - 1 before `from` may
    // list sequences at or after it.
    const int64_t seek = std::max<int64_t>(0, from - kMaxPostingSpan + 1);
    int64_t last_listed = 0;
    RETURN_IF_ERROR(store.ScanFrom(
        kAuditIndexColumn, sources.prefix, SequenceKey(sources.prefix, seek),
        [&](absl::string_view key, absl::string_view value) {
          absl::StatusOr<std::vector<int64_t>> seqs = DecodePosting(key, value);
          if (!seqs.ok()) {
            error = seqs.status();
            return false;
          }
          for (const int64_t seq : *seqs) {
            if (seq < from || seq <= last_listed) continue;
            last_listed = seq;
            if (seq > index_end) return false;
            if (!fn(seq)) {
              stopped = true;
              return false;
            }
          }
          return true;
        }));
    RETURN_IF_ERROR(error);
  }
  if (stopped || (to != 0 && to <= indexed)) return absl::OkStatus();
  const int64_t memory_end =
      to == 0 ? sources.memory_last : std::min(to, sources.memory_last);
  for (const int64_t seq : sources.sequences) {
    if (seq < from || seq <= indexed) continue;
    if (seq > memory_end) break;
    if (!fn(seq)) return absl::OkStatus();
  }
  if (to != 0 && to <= sources.memory_last) return absl::OkStatus();
  RETURN_IF_ERROR(scan_records(std::max(from, sources.memory_last + 1)));
  return error;
}

// The first sequence in [first, last] whose time is at or after `micros`, or
// -1 if none. Times never decrease along the sequence (the writer keeps them
// monotonic), so a binary search over the records finds it in about
// log2(last - first) reads, without an index of its own.
absl::StatusOr<int64_t> FirstSequenceAtOrAfter(const Store& store,
                                               int64_t first, int64_t last,
                                               int64_t micros) {
  int64_t low = first;
  int64_t high = last + 1;  // the answer is in [low, high]; high: none
  while (low < high) {
    const int64_t mid = low + (high - low) / 2;
    absl::StatusOr<std::string> bytes = store.Get(kAuditColumn, RecordKey(mid));
    if (absl::IsNotFound(bytes.status())) {
      // Only a prune running now removes records, and it removes them from
      // the start: everything up to mid is gone, so the answer is above it.
      low = mid + 1;
      continue;
    }
    RETURN_IF_ERROR(bytes.status());
    AuditRecord record;
    if (!record.ParseFromString(*bytes)) {
      return absl::DataLossError(
          absl::StrCat("audit record ", mid, " cannot be parsed"));
    }
    if (record.time_unix_micros() >= micros) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return low > last ? -1 : low;
}

std::string JsonOf(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    return "null";
  }
  return out;
}

std::string JsonString(absl::string_view s) {
  return absl::StrCat("\"", absl::CEscape(s), "\"");
}

// Indexes the records in (meta/indexed, last] (a crash can leave the
// entries of the newest records unwritten; a log written before the marker
// existed has none) and returns `last`. The entries are idempotent puts.
absl::StatusOr<int64_t> IndexUnindexed(Store& store, int64_t start,
                                       int64_t last, int64_t window) {
  int64_t indexed = 0;
  absl::StatusOr<std::string> marker = store.Get(kAuditIndexColumn, kIndexedKey);
  if (marker.ok()) {
    if (!absl::SimpleAtoi(*marker, &indexed) || indexed < 0) {
      return absl::DataLossError("the audit log's index marker is malformed");
    }
  } else if (!absl::IsNotFound(marker.status())) {
    return marker.status();
  }
  int64_t seq = std::max(indexed + 1, start);
  if (seq > last) return std::max(indexed, last);
  // At least the indexer's window: a window it wrote part of before a crash
  // gets the same postings (same first sequence per value) again.
  const int64_t kChunk = std::max<int64_t>(window, 1);
  while (seq <= last) {
    WriteBatch batch;
    PostingBuilder postings;
    const int64_t chunk_end = std::min(last, seq + kChunk - 1);
    for (; seq <= chunk_end; ++seq) {
      absl::StatusOr<std::string> bytes = store.Get(kAuditColumn, RecordKey(seq));
      if (absl::IsNotFound(bytes.status())) continue;
      RETURN_IF_ERROR(bytes.status());
      AuditRecord record;
      if (!record.ParseFromString(*bytes)) {
        return absl::DataLossError(
            absl::StrCat("audit record ", seq, " cannot be parsed"));
      }
      postings.Add(record);
    }
    // The marker moves in the same batch as the postings, so none of these
    // sequences is listed yet.
    for (auto& [key, value] : postings.TakePuts()) {
      batch.Put(kAuditIndexColumn, key, std::move(value));
    }
    batch.Put(kAuditIndexColumn, kIndexedKey, absl::StrCat(chunk_end));
    RETURN_IF_ERROR(store.WriteUnsynced(batch));
  }
  return last;
}

}  // namespace

// --- Opening and closing ---

absl::StatusOr<std::unique_ptr<StoreAuditLog>> StoreAuditLog::Open(
    Store* store, const Clock* clock) {
  return Open(store, clock, Options());
}

absl::StatusOr<std::unique_ptr<StoreAuditLog>> StoreAuditLog::Open(
    Store* store, const Clock* clock, Options options) {
  ASSIGN_OR_RETURN(std::unique_ptr<CheckpointSigner> signer,
                   CheckpointSigner::Generate());
  ASSIGN_OR_RETURN(std::unique_ptr<StoreAuditLog> log,
                   Open(store, clock, signer.get(), std::move(options)));
  log->owned_signer_ = std::move(signer);
  return log;
}

absl::StatusOr<std::unique_ptr<StoreAuditLog>> StoreAuditLog::Open(
    Store* store, const Clock* clock, const CheckpointSigner* signer,
    Options options) {
  if (store == nullptr || clock == nullptr || signer == nullptr) {
    return absl::InvalidArgumentError(
        "StoreAuditLog needs a store, a clock and a signer");
  }
  if (options.flush_interval <= absl::ZeroDuration() ||
      options.max_records_scanned_per_query < 1 ||
      options.checkpoint_every_records < 1 ||
      options.checkpoint_interval <= absl::ZeroDuration() ||
      options.max_records_per_write < 1 ||
      options.retention < absl::ZeroDuration() ||
      options.prune_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "StoreAuditLog needs positive intervals and limits (retention may be "
        "zero: keep everything)");
  }
  for (const absl::string_view column : {kAuditKeysColumn, kAuditIndexColumn}) {
    if (store->Get(column, "pk/").status().code() ==
        absl::StatusCode::kInvalidArgument) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store has no ", column, " column; open it with DefaultColumns()"));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<AlertEvaluator> alerts,
                   AlertEvaluator::Create(options.alert_rules));

  RETURN_IF_ERROR(MoveIndexOutOfRecords(store));
  ChainState chain;
  ASSIGN_OR_RETURN(const int64_t start, StartSequence(*store));
  ASSIGN_OR_RETURN(const int64_t last, LastSequence(*store, kRecordPrefix));
  ASSIGN_OR_RETURN(const int64_t last_checkpoint,
                   LastSequence(*store, kCheckpointPrefix));
  if (last == kMaxSequence) {
    return absl::FailedPreconditionError(
        "the audit log has no sequence numbers left");
  }
  if (last >= start) {
    ASSIGN_OR_RETURN(std::string bytes, store->Get(kAuditColumn, RecordKey(last)));
    AuditRecord record;
    if (!record.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat(
          "the last audit record (", last,
          ") does not parse; run `iamctl audit verify` on the data directory"));
    }
    chain.next_sequence = last + 1;
    chain.head_hash = Sha256(bytes);
    chain.last_time_micros = record.time_unix_micros();
  } else if (start > 1) {
    ASSIGN_OR_RETURN(std::string bytes,
                     store->Get(kAuditIndexColumn, CheckpointKey(start - 1)));
    AuditCheckpoint checkpoint;
    if (!checkpoint.ParseFromString(bytes)) {
      return absl::DataLossError("the audit log's anchor checkpoint does not parse");
    }
    chain.next_sequence = start;
    chain.head_hash = checkpoint.head_hash();
  } else {
    chain.head_hash = GenesisHash();
  }
  chain.since_checkpoint =
      std::max<int64_t>(0, chain.next_sequence - 1 -
                               std::max(last_checkpoint, start - 1));
  chain.last_checkpoint = absl::Now();
  ASSIGN_OR_RETURN(const int64_t indexed,
                   IndexUnindexed(*store, start, chain.next_sequence - 1,
                                  options.index_window_records));

  auto log = absl::WrapUnique(new StoreAuditLog(
      store, clock, signer, std::move(options), std::move(chain), indexed,
      std::move(alerts)));
  return log;
}

StoreAuditLog::StoreAuditLog(Store* store, const Clock* clock,
                             const CheckpointSigner* signer, Options options,
                             ChainState chain, int64_t indexed,
                             std::unique_ptr<AlertEvaluator> alerts)
    : store_(store),
      clock_(clock),
      signer_(signer),
      options_(std::move(options)),
      keyring_(store),
      chain_(std::move(chain)),
      alerts_(std::move(alerts)) {
  {
    absl::MutexLock lock(&written_mu_);
    written_ = chain_.next_sequence - 1;
  }
  indexed_.store(indexed);
  {
    absl::MutexLock lock(&index_mu_);
    index_queue_last_ = indexed;
    index_writing_last_ = indexed;
  }
  // Named for top, perf and /proc (at most 15 characters).
  completer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "audit-complete");
    CompleterLoop();
  });
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "audit-writer");
    WriterLoop();
  });
  indexer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "audit-indexer");
    IndexerLoop();
  });
  if (options_.retention > absl::ZeroDuration()) {
    pruner_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "audit-pruner");
      PruneLoop();
    });
  }
}

StoreAuditLog::~StoreAuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (pruner_.joinable()) pruner_.join();
  writer_.join();
  {
    absl::MutexLock lock(&completion_mu_);
    completer_stopping_ = true;
  }
  completer_.join();
  {
    absl::MutexLock lock(&index_mu_);
    index_stopping_ = true;
  }
  indexer_.join();
  // Listeners that never fired (Tail streams still open) are dropped.
}

// --- Appending ---

void StoreAuditLog::Enqueue(Pending pending) {
  absl::MutexLock lock(&mu_);
  if (pending.done) ++urgent_;
  queue_.push_back(std::move(pending));
}

namespace {

// Moves the elements of `from` to the end of `*to` (just a move when `*to`
// is empty).
template <typename T>
void MoveAppend(std::vector<T> from, std::vector<T>* to) {
  if (to->empty()) {
    *to = std::move(from);
    return;
  }
  to->insert(to->end(), std::make_move_iterator(from.begin()),
             std::make_move_iterator(from.end()));
}

// Starts an asynchronous call with a callback that stores its result, and
// waits for that result.
template <typename Result>
Result WaitFor(const std::function<void(std::function<void(Result)>)>& start) {
  absl::Notification done;
  Result result;
  start([&](Result r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

}  // namespace

absl::StatusOr<int64_t> AuditLog::Append(AuditRecord record) {
  return WaitFor<absl::StatusOr<int64_t>>([&](AppendCallback done) {
    AppendThen(std::move(record), std::move(done));
  });
}

void StoreAuditLog::AppendThen(AuditRecord record, WriteBatch with,
                               AppendCallback done) {
  record.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  Pending p;
  p.record = std::move(record);
  p.with = std::move(with);
  p.done = std::move(done);
  p.sync = true;
  Enqueue(std::move(p));
}

absl::StatusOr<ChangeWritten> AuditLog::AppendChange(AuditRecord record,
                                                     WriteBatch change) {
  return WaitFor<absl::StatusOr<ChangeWritten>>([&](ChangeCallback done) {
    AppendChangeThen(std::move(record), std::move(change), std::move(done));
  });
}

void StoreAuditLog::AppendChangeThen(AuditRecord record, WriteBatch change,
                                     ChangeCallback done) {
  record.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  auto revision = std::make_shared<Revision>(0);
  Pending p;
  p.record = std::move(record);
  p.with = std::move(change);
  p.change_revision = revision;
  p.done = [revision, done = std::move(done)](absl::StatusOr<int64_t> sequence) {
    if (!sequence.ok()) {
      done(sequence.status());
      return;
    }
    done(ChangeWritten{*sequence, *revision});
  };
  p.sync = true;
  Enqueue(std::move(p));
}

void StoreAuditLog::AppendAsync(AuditRecord record) {
  record.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= options_.max_async_backlog) {
    // The writer is behind: it wakes on a full backlog (see WriterLoop);
    // wait until it has taken the queue, rather than buffer without bound.
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return queue_.size() < options_.max_async_backlog || stopping_;
    };
    mu_.Await(absl::Condition(&room));
  }
  queue_.emplace_back();
  Pending& p = queue_.back();
  p.record = std::move(record);
}

absl::Status StoreAuditLog::Flush() {
  absl::Notification done;
  absl::Status status;
  Pending p;
  p.type = Pending::Type::kBarrier;
  p.done = [&](absl::StatusOr<int64_t> r) {
    status = r.status();
    done.Notify();
  };
  Enqueue(std::move(p));
  done.WaitForNotification();
  if (!status.ok()) return status;
  // Their index entries follow in the indexer's next write; wait for it (a
  // little), so that what Flush returns from is cheap to query.
  const int64_t written = WrittenSequence();
  absl::MutexLock lock(&index_mu_);
  index_flush_requested_ = true;
  auto indexed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_) {
    return indexed_.load() >= written || index_stopping_;
  };
  index_mu_.AwaitWithTimeout(absl::Condition(&indexed), absl::Seconds(5));
  return status;
}

absl::Status StoreAuditLog::Checkpoint() {
  absl::Notification done;
  absl::Status status;
  Pending p;
  p.type = Pending::Type::kBarrier;
  p.sync = true;
  p.done = [&](absl::StatusOr<int64_t> r) {
    status = r.status();
    done.Notify();
  };
  // The writer signs the head of the batch that carries the barrier.
  Enqueue(std::move(p));
  done.WaitForNotification();
  return status;
}

absl::StatusOr<iam::v1::ErasePersonDataResponse> StoreAuditLog::ErasePersonData(
    absl::string_view caller, absl::string_view person_id,
    absl::string_view reason) {
  if (person_id.empty() || reason.empty()) {
    return absl::InvalidArgumentError(
        "person_id and reason (the ticket that authorizes the erase) are "
        "required");
  }
  Pending p;
  p.type = Pending::Type::kErase;
  p.erase_person = std::string(person_id);
  p.record.set_caller(std::string(caller));
  p.record.set_action(kEraseAction);
  p.record.set_target(std::string(person_id));
  p.record.set_person_id(std::string(person_id));
  p.record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
  p.record.set_reason(std::string(reason));
  p.record.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  p.sync = true;
  absl::Notification done;
  absl::StatusOr<int64_t> result;
  p.done = [&](absl::StatusOr<int64_t> r) {
    result = std::move(r);
    done.Notify();
  };
  Enqueue(std::move(p));
  done.WaitForNotification();
  RETURN_IF_ERROR(result.status());
  iam::v1::ErasePersonDataResponse response;
  response.set_sequence(*result);
  ASSIGN_OR_RETURN(AuditRecord record, ReadRecord(*result));
  response.set_key_destroyed(LabelValue(record, "key_destroyed") == "true");
  return response;
}

// --- The writer ---

void StoreAuditLog::WriterLoop() {
  absl::Time next_flush = absl::Now() + options_.flush_interval;
  while (true) {
    std::vector<Pending> work;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        // A full async backlog wakes the writer too: appenders wait on it.
        return stopping_ || urgent_ > 0 ||
               queue_.size() >= options_.max_async_backlog;
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), next_flush);
      work.swap(queue_);
      // Hand appenders a buffer sized like the last one, so push_back
      // rarely reallocates under mu_.
      queue_.reserve(std::min(work.size(), options_.max_buffered_records));
      urgent_ = 0;
      stopping = stopping_;
    }
    const absl::Time now = absl::Now();
    if (now >= next_flush) next_flush = now + options_.flush_interval;
    WriteWork(work, stopping);
    if (stopping) {
      absl::MutexLock lock(&mu_);
      if (queue_.empty()) return;
    }
  }
}

absl::Status StoreAuditLog::AddRecord(AuditRecord& record, bool seal,
                                      std::string* plain_reason,
                                      WriteBatch* batch,
                                      IndexEntries* index_entries) {
  if (seal) {
    RETURN_IF_ERROR(
        SealRecord(record, chain_.next_sequence, plain_reason, batch));
  }
  ChainRecord(record, batch, index_entries);
  return absl::OkStatus();
}

absl::Status StoreAuditLog::SealRecord(AuditRecord& record, int64_t sequence,
                                       std::string* plain_reason,
                                       WriteBatch* batch) {
  // Decision records (a check's outcome and the binding that decided it)
  // carry no free text about the person, so they are not sealed: that keeps
  // the writer's cost per decision low.
  if (!record.person_id().empty() && !record.reason().empty() &&
      !record.has_sealed_reason() && record.decisions_size() == 0 &&
      !absl::StartsWith(record.action(), "authz.check")) {
    ASSIGN_OR_RETURN(iam::v1::SealedText sealed,
                     keyring_.Seal(record.person_id(), record.reason(),
                                   AssociatedData(sequence), batch));
    *record.mutable_sealed_reason() = std::move(sealed);
    if (plain_reason != nullptr) {
      *plain_reason = std::move(*record.mutable_reason());
    }
    record.clear_reason();
  }
  return absl::OkStatus();
}

void StoreAuditLog::ChainRecord(AuditRecord& record, WriteBatch* batch,
                                IndexEntries* index_entries) {
  const int64_t seq = chain_.next_sequence;
  record.set_sequence(seq);
  record.set_time_unix_micros(
      std::max(record.time_unix_micros(), chain_.last_time_micros));
  record.set_prev_hash(chain_.head_hash);
  record.clear_reason_erased();
  const std::string bytes = CanonicalBytes(record);
  chain_.head_hash = Sha256(bytes);
  chain_.last_time_micros = record.time_unix_micros();
  ++chain_.next_sequence;
  ++chain_.since_checkpoint;
  batch->Put(kAuditColumn, RecordKey(seq), bytes);
  AppendIndexEntries(record, index_entries);
}

void StoreAuditLog::MaybeCheckpoint(bool want_checkpoint, WriteBatch* batch) {
  if (chain_.since_checkpoint > 0 &&
      (want_checkpoint ||
       chain_.since_checkpoint >= options_.checkpoint_every_records ||
       absl::Now() - chain_.last_checkpoint >= options_.checkpoint_interval)) {
    AddCheckpoint(batch);
  }
}

void StoreAuditLog::AddCheckpoint(WriteBatch* batch) {
  AuditCheckpoint checkpoint;
  checkpoint.set_sequence(chain_.next_sequence - 1);
  checkpoint.set_head_hash(chain_.head_hash);
  checkpoint.set_time_unix_micros(
      std::max(absl::ToUnixMicros(clock_->Now()), chain_.last_time_micros));
  checkpoint.set_key_fingerprint(signer_->public_key().fingerprint());
  checkpoint.set_signature(signer_->Sign(CheckpointSignedBytes(checkpoint)));
  checkpoint.ByteSizeLong();  // caches the sizes serialization needs
  batch->Put(kAuditIndexColumn, CheckpointKey(checkpoint.sequence()),
             DeterministicBytes(checkpoint));
  chain_.since_checkpoint = 0;
  chain_.last_checkpoint = absl::Now();
}

void StoreAuditLog::WriteWork(std::vector<Pending>& work, bool final) {
  size_t i = 0;
  bool first = true;
  while (first || i < work.size()) {
    first = false;
    const ChainState saved = chain_;
    WriteBatch batch;
    bool sync = false;
    bool want_checkpoint = final;
    struct Done {
      AppendCallback* callback;
      int64_t sequence;
    };
    std::vector<Done> dones;
    // Buffered records of this batch, with their plaintext reasons, for a
    // retry if the write fails.
    std::vector<std::pair<size_t, std::string>> buffered;
    // Index entries of this batch's records, for the indexer once the
    // records are written.
    IndexEntries index_entries;
    // Change records (AppendChangeThen) carry the revision their write
    // commits at, which the store assigns inside its group commit: they go
    // last in the batch, and the store's finisher chains them.
    std::vector<Pending*> changes;
    const size_t end =
        std::min(work.size(), i + static_cast<size_t>(options_.max_records_per_write));
    for (; i < end; ++i) {
      Pending& p = work[i];
      if (p.change_revision != nullptr) {
        changes.push_back(&p);
        continue;
      }
      if (p.type == Pending::Type::kBarrier) {
        dones.push_back({&p.done, 0});
        if (p.sync) {
          sync = true;
          want_checkpoint = true;
        }
        continue;
      }
      absl::Status status;
      if (p.type == Pending::Type::kErase) {
        absl::StatusOr<bool> existed = keyring_.StageErase(p.erase_person, &batch);
        status = existed.status();
        if (existed.ok()) {
          iam::v1::AuditLabel* label = p.record.add_labels();
          label->set_key("key_destroyed");
          label->set_value(*existed ? "true" : "false");
        }
      }
      std::string plain;
      if (status.ok()) {
        // The erase record names the ticket only; it is not sealed.
        status = AddRecord(p.record, p.type != Pending::Type::kErase, &plain,
                           &batch, &index_entries);
      }
      if (!status.ok()) {
        if (p.done) {
          p.done(status);
          p.done = nullptr;
        } else {
          std::fprintf(stderr, "audit: dropping a buffered record: %s\n",
                       status.ToString().c_str());
        }
        continue;
      }
      if (p.done) {
        dones.push_back({&p.done, p.record.sequence()});
        sync = sync || p.sync;
        batch.Append(std::move(p.with));
      } else {
        buffered.emplace_back(i, std::move(plain));
      }
      for (AuditRecord& alert : alerts_->Observe(p.record)) {
        absl::Status added =
            AddRecord(alert, /*seal=*/false, nullptr, &batch, &index_entries);
        if (!added.ok()) {
          std::fprintf(stderr, "audit: dropping an alert record: %s\n",
                       added.ToString().c_str());
        }
      }
    }
    // Seal the change records now, with the sequences they will take (a
    // seal may fail; the finisher must not).
    size_t sealed_changes = 0;
    for (Pending* p : changes) {
      absl::Status sealed =
          SealRecord(p->record,
                     chain_.next_sequence + static_cast<int64_t>(sealed_changes),
                     nullptr, &batch);
      if (!sealed.ok()) {
        p->done(sealed);
        p->done = nullptr;
        continue;
      }
      dones.push_back({&p->done, chain_.next_sequence +
                                     static_cast<int64_t>(sealed_changes)});
      changes[sealed_changes++] = p;
    }
    changes.resize(sealed_changes);
    absl::Status status;
    if (!changes.empty()) {
      BatchFinisher finish = [&](Revision revision, WriteBatch* more) {
        // The change records first: they take the sequences sealed into
        // them. Then the alerts they raise.
        for (Pending* p : changes) {
          p->record.set_revision(revision);
          *p->change_revision = revision;
          ChainRecord(p->record, more, &index_entries);
          more->Append(std::move(p->with));
        }
        for (Pending* p : changes) {
          for (AuditRecord& alert : alerts_->Observe(p->record)) {
            ChainRecord(alert, more, &index_entries);
          }
        }
        MaybeCheckpoint(want_checkpoint, more);
      };
      status = store_->CommitWith(batch, finish).status();
    } else {
      MaybeCheckpoint(want_checkpoint, &batch);
      if (!batch.empty()) {
        status = sync ? store_->Commit(batch).status()
                      : store_->WriteUnsynced(batch);
      }
    }
    if (status.ok()) {
      keyring_.Commit();
      if (failed_writes_in_a_row_ > 0) {
        std::fprintf(stderr, "audit: writes recovered after %d failures\n",
                     failed_writes_in_a_row_);
        failed_writes_in_a_row_ = 0;
      }
      PublishWritten(chain_.next_sequence - 1);
      QueueIndexKeys(std::move(index_entries), chain_.next_sequence - 1);
      std::vector<Completion> completions;
      completions.reserve(dones.size());
      for (const Done& d : dones) {
        completions.emplace_back(std::move(*d.callback), d.sequence);
      }
      // The last batch of `work`: the writer may be idle after it.
      Complete(std::move(completions), /*last_of_work=*/i >= work.size());
      continue;
    }
    // Nothing of this batch counts: roll the chain back, fail the waiters,
    // keep the buffered records for the next write.
    keyring_.Abandon();
    chain_ = saved;
    if (failed_writes_in_a_row_++ % kFailuresPerLogLine == 0) {
      // Never print records: they name people and what they did.
      std::fprintf(stderr,
                   "audit: write failed (%d in a row; %zu buffered records "
                   "kept for a retry): %s\n",
                   failed_writes_in_a_row_, buffered.size(),
                   status.ToString().c_str());
    }
    std::vector<Completion> failed;
    failed.reserve(dones.size());
    for (const Done& d : dones) failed.emplace_back(std::move(*d.callback), status);
    Complete(std::move(failed), /*last_of_work=*/false);
    std::vector<Pending> retry;
    retry.reserve(buffered.size());
    for (auto& [index, plain] : buffered) {
      Pending& p = work[index];
      if (p.record.has_sealed_reason()) {
        p.record.clear_sealed_reason();
        p.record.set_reason(std::move(plain));
      }
      retry.push_back(std::move(p));
    }
    absl::MutexLock lock(&mu_);
    const size_t room = options_.max_buffered_records > queue_.size()
                            ? options_.max_buffered_records - queue_.size()
                            : 0;
    if (retry.size() > room) {
      std::fprintf(stderr,
                   "audit: buffer full; dropping %zu buffered decision "
                   "records\n",
                   retry.size() - room);
      retry.resize(room);
    }
    queue_.insert(queue_.begin(), std::make_move_iterator(retry.begin()),
                  std::make_move_iterator(retry.end()));
    if (final) return;  // the store is failing; do not spin at shutdown
  }
}

void StoreAuditLog::QueueIndexKeys(IndexEntries entries, int64_t last) {
  absl::MutexLock lock(&index_mu_);
  if (index_queue_last_ <= index_writing_last_) index_tail_since_ = absl::Now();
  if (!entries.empty()) {
    index_tail_.push_back(std::make_shared<const IndexEntries>(std::move(entries)));
  }
  index_queue_last_ = std::max(index_queue_last_, last);
}

StoreAuditLog::IndexView StoreAuditLog::ViewIndex(std::string prefix) const {
  IndexView view;
  view.prefix = std::move(prefix);
  if (view.prefix.empty()) return view;
  // A record lists each prefix once, so no sequence repeats.
  // The chunks, oldest first, are immutable: scan them outside the lock.
  IndexChunks chunks;
  {
    absl::MutexLock lock(&index_mu_);
    view.indexed = indexed_.load();
    view.memory_last = index_queue_last_;
    chunks.reserve(index_writing_.size() + index_tail_.size());
    chunks.insert(chunks.end(), index_writing_.begin(), index_writing_.end());
    chunks.insert(chunks.end(), index_tail_.begin(), index_tail_.end());
  }
  for (const auto& chunk : chunks) {
    for (const auto& [p, seq] : *chunk) {
      if (p == view.prefix) view.sequences.push_back(seq);
    }
  }
  return view;
}

void StoreAuditLog::IndexerLoop() {
  int failures = 0;
  while (true) {
    IndexChunks writing;
    int64_t last = 0;
    bool stopping = false;
    {
      absl::MutexLock lock(&index_mu_);
      // Due: at shutdown, on Flush, or once the window is full or old.
      auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_) {
        if (index_stopping_) return true;
        if (index_queue_last_ <= indexed_.load()) return false;
        return index_flush_requested_ ||
               index_queue_last_ - indexed_.load() >=
                   options_.index_window_records ||
               absl::Now() - index_tail_since_ >= options_.index_window_age;
      };
      while (!due()) {
        if (index_queue_last_ > indexed_.load()) {
          index_mu_.AwaitWithTimeout(
              absl::Condition(&due),
              index_tail_since_ + options_.index_window_age - absl::Now());
        } else {
          index_mu_.Await(absl::Condition(&due));
        }
      }
      stopping = index_stopping_;
      last = index_queue_last_;
      index_flush_requested_ = false;
      if (last > index_writing_last_) {
        // The tail joins what is being written (after a failed write, the
        // entries that failed stay in it).
        index_writing_.insert(index_writing_.end(), index_tail_.begin(),
                              index_tail_.end());
        index_tail_.clear();
        index_writing_last_ = last;
      }
      writing = index_writing_;
      last = index_writing_last_;
    }
    if (!writing.empty() && last > indexed_.load()) {
      // In writes of a bounded size, so that the writer's synced commits,
      // queued behind them in RocksDB, are not held up for long; the marker
      // moves with the last. After a crash part way, Open re-indexes from
      // the marker and writes the same postings again (same keys: one per
      // value and window, keyed by its first sequence after the marker).
      PostingBuilder postings;
      for (const auto& chunk : writing) {
        for (const auto& [prefix, seq] : *chunk) postings.Add(prefix, seq);
      }
      std::vector<std::pair<std::string, std::string>> puts = postings.TakePuts();
      absl::Status status;
      size_t next = 0;
      do {
        WriteBatch batch;
        const size_t end = std::min(puts.size(), next + kIndexEntriesPerWrite);
        for (; next < end; ++next) {
          batch.Put(kAuditIndexColumn, puts[next].first, std::move(puts[next].second));
        }
        if (next == puts.size()) {
          batch.Put(kAuditIndexColumn, kIndexedKey, absl::StrCat(last));
        }
        status = store_->WriteUnsynced(batch);
      } while (status.ok() && next < puts.size());
      if (status.ok()) {
        absl::MutexLock lock(&index_mu_);  // Flush waits on it
        indexed_.store(last);
        index_writing_.clear();
        failures = 0;
      } else {
        // Queries still find these records in memory; retry later.
        if (failures++ % kFailuresPerLogLine == 0) {
          std::fprintf(stderr, "audit: index write failed (%d in a row): %s\n",
                       failures, status.ToString().c_str());
        }
        // At shutdown: the next Open indexes what is left.
        if (stopping) return;
        absl::MutexLock lock(&index_mu_);
        index_mu_.AwaitWithTimeout(absl::Condition(&index_stopping_),
                                   absl::Milliseconds(100));
        continue;
      }
    }
    if (stopping) {
      absl::MutexLock lock(&index_mu_);
      if (index_queue_last_ <= indexed_.load()) return;
    }
  }
}

void StoreAuditLog::Complete(std::vector<Completion> completions,
                             bool last_of_work) {
  if (completions.empty()) return;
  bool writer_idle = false;
  if (last_of_work) {
    absl::MutexLock lock(&mu_);
    writer_idle = queue_.empty();
  }
  {
    absl::MutexLock lock(&completion_mu_);
    if (!writer_idle || completing_ || !completions_.empty()) {
      MoveAppend(std::move(completions), &completions_);
      return;
    }
    completing_ = true;  // the completion thread waits: order is kept
  }
  // Nothing queued for the writer, and no earlier completion pending: run
  // them here, one thread hand-off sooner than the completion thread would.
  for (auto& [callback, result] : completions) callback(std::move(result));
  absl::MutexLock lock(&completion_mu_);
  completing_ = false;
}

void StoreAuditLog::CompleterLoop() {
  while (true) {
    std::vector<Completion> ready;
    bool stopping = false;
    {
      absl::MutexLock lock(&completion_mu_);
      // Never while the writer runs completions itself (even to stop).
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
        return !completing_ && (!completions_.empty() || completer_stopping_);
      };
      completion_mu_.Await(absl::Condition(&work));
      ready.swap(completions_);
      stopping = completer_stopping_;
      completing_ = !ready.empty();
    }
    for (auto& [callback, result] : ready) callback(std::move(result));
    {
      absl::MutexLock lock(&completion_mu_);
      completing_ = false;
    }
    if (stopping && ready.empty()) return;
  }
}

void StoreAuditLog::PublishWritten(int64_t written) {
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&written_mu_);
    written_ = written;
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (it->second.first <= written) {
        ready.push_back(std::move(it->second.second));
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fn : ready) fn();
}

int64_t StoreAuditLog::WrittenSequence() const {
  absl::MutexLock lock(&written_mu_);
  return written_;
}

uint64_t StoreAuditLog::NotifyWhenWritten(int64_t sequence,
                                          std::function<void()> fn) {
  uint64_t id;
  {
    absl::MutexLock lock(&written_mu_);
    id = next_listener_++;
    if (written_ < sequence) {
      listeners_.emplace(id, std::make_pair(sequence, std::move(fn)));
      return id;
    }
  }
  fn();
  return id;
}

bool StoreAuditLog::CancelNotify(uint64_t id) {
  absl::MutexLock lock(&written_mu_);
  return listeners_.erase(id) > 0;
}

// --- Reading ---

void StoreAuditLog::Unseal(AuditRecord* record) const {
  if (!record->has_sealed_reason()) return;
  absl::StatusOr<std::string> plain =
      keyring_.Open(record->sealed_reason(), AssociatedData(record->sequence()));
  if (plain.ok()) {
    record->set_reason(std::move(*plain));
  } else if (absl::IsNotFound(plain.status())) {
    record->set_reason_erased(true);
  } else {
    record->set_reason(absl::StrCat("[unreadable: ", plain.status().message(), "]"));
  }
  record->clear_sealed_reason();
}

absl::StatusOr<AuditRecord> StoreAuditLog::ReadRecord(int64_t sequence) const {
  ASSIGN_OR_RETURN(std::string bytes,
                   store_->Get(kAuditColumn, RecordKey(sequence)));
  AuditRecord record;
  if (!record.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("audit record ", sequence, " cannot be parsed"));
  }
  return record;
}

absl::StatusOr<QueryAuditResponse> StoreAuditLog::Query(
    const QueryAuditRequest& request) const {
  RETURN_IF_ERROR(ValidateQuery(request));
  const Filter filter = FromQuery(request);
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  int64_t from = 1;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(const int64_t after, DecodePageToken(request.page_token()));
    from = after + 1;
  }
  // Times never decrease along the sequence: a time range is a sequence range.
  int64_t start = 1;
  int64_t written = 0;
  int64_t to = 0;
  if (filter.since != 0 || filter.until != 0) {
    ASSIGN_OR_RETURN(start, StartSequence(*store_));
    written = WrittenSequence();
  }
  if (filter.since != 0) {
    ASSIGN_OR_RETURN(const int64_t first,
                     FirstSequenceAtOrAfter(*store_, start, written, filter.since));
    if (first < 0) return QueryAuditResponse();
    from = std::max(from, first);
  }
  if (filter.until != 0 && filter.until < kMaxSequence) {
    ASSIGN_OR_RETURN(const int64_t after,
                     FirstSequenceAtOrAfter(*store_, start, written,
                                            filter.until + 1));
    if (after >= 0) {
      if (after <= from) return QueryAuditResponse();
      to = after - 1;
    }
  }

  QueryAuditResponse response;
  absl::Status error;
  int scanned = 0;
  int64_t last_scanned = -1;
  bool more = false;
  RETURN_IF_ERROR(ForEachCandidate(
      *store_, ViewIndex(filter.IndexPrefix()), from, to, [&](int64_t seq) {
        if (response.records_size() == page_size ||
            scanned == options_.max_records_scanned_per_query) {
          more = true;
          return false;
        }
        absl::StatusOr<AuditRecord> record = ReadRecord(seq);
        if (absl::IsNotFound(record.status())) return true;  // being pruned
        if (!record.ok()) {
          error = record.status();
          return false;
        }
        ++scanned;
        last_scanned = seq;
        // Index entries are hints: the record itself decides.
        if (filter.Matches(*record)) {
          Unseal(&*record);
          *response.add_records() = std::move(*record);
        }
        return true;
      }));
  RETURN_IF_ERROR(error);
  if (more) response.set_next_page_token(EncodePageToken(last_scanned));
  return response;
}

absl::StatusOr<TailAuditResponse> StoreAuditLog::ReadFrom(
    const TailAuditRequest& request, int64_t from, int max_records) const {
  RETURN_IF_ERROR(ValidateOutcome(request.outcome()));
  if (from < 1) {
    return absl::InvalidArgumentError("from_sequence must be at least 1");
  }
  const Filter filter = FromTail(request);
  const int64_t written = WrittenSequence();
  TailAuditResponse response;
  response.set_next_sequence(from);
  if (from > written) return response;
  absl::Status error;
  int scanned = 0;
  bool stopped_early = false;
  RETURN_IF_ERROR(ForEachCandidate(
      *store_, ViewIndex(filter.IndexPrefix()), from, written, [&](int64_t seq) {
        if (response.records_size() >= max_records ||
            scanned >= options_.max_records_scanned_per_query) {
          stopped_early = true;
          return false;
        }
        absl::StatusOr<AuditRecord> record = ReadRecord(seq);
        if (absl::IsNotFound(record.status())) return true;
        if (!record.ok()) {
          error = record.status();
          return false;
        }
        ++scanned;
        response.set_next_sequence(seq + 1);
        if (filter.Matches(*record)) {
          Unseal(&*record);
          *response.add_records() = std::move(*record);
        }
        return true;
      }));
  RETURN_IF_ERROR(error);
  // The records between the last hit and `written` did not match: the next
  // read may start after them.
  if (!stopped_early) response.set_next_sequence(written + 1);
  return response;
}

absl::StatusOr<iam::v1::VerifyAuditResponse> StoreAuditLog::Verify() const {
  return VerifyAuditLog(*store_, signer_->public_key());
}

absl::StatusOr<iam::v1::ExportAuditResponse> StoreAuditLog::Export(
    const iam::v1::ExportAuditRequest& request) const {
  if (request.from_sequence() < 0 || request.to_sequence() < 0 ||
      (request.to_sequence() != 0 &&
       request.from_sequence() > request.to_sequence())) {
    return absl::InvalidArgumentError(
        "from_sequence and to_sequence must be >= 0 (0: open end) with from "
        "<= to");
  }
  if (request.max_records() < 0 || request.max_records() > kMaxExportRecords) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_records must be 1-", kMaxExportRecords, " (0 means 1000)"));
  }
  const int max = request.max_records() == 0 ? 1000 : request.max_records();
  ASSIGN_OR_RETURN(const int64_t start, StartSequence(*store_));
  const int64_t from = std::max<int64_t>(request.from_sequence(), start);
  int64_t to = WrittenSequence();
  if (request.to_sequence() != 0) to = std::min(to, request.to_sequence());

  iam::v1::ExportAuditResponse response;
  if (request.from_sequence() == 0 || request.from_sequence() <= start) {
    // The first page: what an outside verifier needs besides the records.
    std::string anchor = GenesisHash();
    if (from > 1) {
      absl::StatusOr<AuditRecord> first = ReadRecord(from);
      if (first.ok()) anchor = first->prev_hash();
    }
    response.add_lines(absl::StrCat(
        "{\"format\":\"iam.audit.export.v1\",\"public_key_pem\":",
        JsonString(public_key().pem()), ",\"key_fingerprint_hex\":\"",
        absl::BytesToHexString(public_key().fingerprint()),
        "\",\"from_sequence\":", from, ",\"to_sequence\":", to,
        ",\"anchor_prev_hash_hex\":\"", absl::BytesToHexString(anchor),
        "\",\"hash\":\"sha256 of base64-decoded canonical\",\"canonical\":"
        "\"deterministic protobuf serialization of iam.v1.AuditRecord "
        "(proto/iam/v1/audit.proto)\",\"checkpoint_signature\":\"Ed25519 over "
        "the deterministic serialization of iam.v1.AuditCheckpoint without "
        "its signature\"}"));
  }
  if (from > to) return response;
  int count = 0;
  int64_t next = 0;
  absl::Status error;
  RETURN_IF_ERROR(store_->ScanFrom(
      kAuditColumn, kRecordPrefix, RecordKey(from),
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<int64_t> seq = ParseSequenceKey(kRecordPrefix, key);
        if (!seq.ok()) {
          error = seq.status();
          return false;
        }
        if (*seq > to) return false;
        if (count == max) {
          next = *seq;
          return false;
        }
        AuditRecord record;
        if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("audit record ", *seq, " cannot be parsed"));
          return false;
        }
        response.add_lines(absl::StrCat(
            "{\"sequence\":", *seq, ",\"hash_hex\":\"",
            absl::BytesToHexString(Sha256(value)), "\",\"canonical\":\"",
            absl::Base64Escape(value), "\",\"record\":", JsonOf(record), "}"));
        absl::StatusOr<std::string> cp =
            store_->Get(kAuditIndexColumn, CheckpointKey(*seq));
        if (cp.ok()) {
          AuditCheckpoint checkpoint;
          if (checkpoint.ParseFromString(*cp)) {
            response.add_lines(
                absl::StrCat("{\"checkpoint\":", JsonOf(checkpoint), "}"));
          }
        }
        ++count;
        return true;
      }));
  RETURN_IF_ERROR(error);
  response.set_next_sequence(next);
  return response;
}

// --- Retention ---

absl::StatusOr<int64_t> StoreAuditLog::PruneBefore(absl::Time cutoff) {
  absl::MutexLock prune_lock(&prune_mu_);
  ASSIGN_OR_RETURN(const int64_t start, StartSequence(*store_));
  const int64_t cutoff_micros = absl::ToUnixMicros(cutoff);
  // The newest checkpoint signed before the cutoff: every record it covers
  // is older than the cutoff (times never decrease).
  int64_t boundary = 0;
  absl::Status error;
  RETURN_IF_ERROR(store_->ScanFrom(
      kAuditIndexColumn, kCheckpointPrefix, CheckpointKey(start > 1 ? start - 1 : 0),
      [&](absl::string_view, absl::string_view value) {
        AuditCheckpoint cp;
        if (!cp.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("an audit checkpoint does not parse");
          return false;
        }
        if (cp.time_unix_micros() >= cutoff_micros) return false;
        boundary = cp.sequence();
        return true;
      }));
  RETURN_IF_ERROR(error);
  if (boundary < start) return start;
  // First move the start (synced), so a crash midway leaves a log that
  // verifies from the new start; then delete below it.
  {
    WriteBatch batch;
    batch.Put(kAuditIndexColumn, kStartKey, absl::StrCat(boundary + 1));
    RETURN_IF_ERROR(store_->Commit(batch).status());
  }
  constexpr int kChunk = 1000;
  int64_t seq = start;
  while (seq <= boundary) {
    WriteBatch batch;
    absl::flat_hash_set<std::string> prefixes;
    const int64_t chunk_end = std::min(boundary, seq + kChunk - 1);
    for (; seq <= chunk_end; ++seq) {
      absl::StatusOr<AuditRecord> record = ReadRecord(seq);
      if (absl::IsNotFound(record.status())) continue;
      RETURN_IF_ERROR(record.status());
      batch.Delete(kAuditColumn, RecordKey(seq));
      for (std::string& prefix : IndexPrefixes(*record)) {
        prefixes.insert(std::move(prefix));
      }
    }
    // The postings of these index values up to the boundary go; one that
    // also lists later records is put back with those only.
    absl::Status error;
    for (const std::string& prefix : prefixes) {
      RETURN_IF_ERROR(store_->ScanFrom(
          kAuditIndexColumn, prefix, SequenceKey(prefix, 0),
          [&](absl::string_view key, absl::string_view value) {
            absl::StatusOr<std::vector<int64_t>> seqs = DecodePosting(key, value);
            if (!seqs.ok()) {
              error = seqs.status();
              return false;
            }
            if (seqs->front() > boundary) return false;
            batch.Delete(kAuditIndexColumn, key);
            std::vector<int64_t> kept;
            for (const int64_t s : *seqs) {
              if (s > boundary) kept.push_back(s);
            }
            if (!kept.empty()) {
              batch.Put(kAuditIndexColumn, SequenceKey(prefix, kept.front()),
                        EncodePosting(kept));
            }
            return true;
          }));
      RETURN_IF_ERROR(error);
    }
    RETURN_IF_ERROR(store_->Commit(batch).status());
  }
  // Older checkpoints go too; the one at the boundary anchors the chain.
  WriteBatch checkpoints;
  RETURN_IF_ERROR(store_->Scan(
      kAuditIndexColumn, kCheckpointPrefix,
      [&](absl::string_view key, absl::string_view) {
        absl::StatusOr<int64_t> s = ParseSequenceKey(kCheckpointPrefix, key);
        if (!s.ok() || *s >= boundary) return false;
        checkpoints.Delete(kAuditIndexColumn, key);
        return true;
      }));
  if (!checkpoints.empty()) RETURN_IF_ERROR(store_->Commit(checkpoints).status());
  return boundary + 1;
}

void StoreAuditLog::PruneLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                               options_.prune_interval)) {
        return;
      }
    }
    absl::StatusOr<int64_t> pruned =
        PruneBefore(clock_->Now() - options_.retention);
    if (!pruned.ok()) {
      std::fprintf(stderr, "audit: pruning failed: %s\n",
                   pruned.status().ToString().c_str());
    }
  }
}

}  // namespace iam::audit
