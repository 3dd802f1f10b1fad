#include "services/audit/audit_log.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

using iam::v1::AuditRecord;
using iam::v1::QueryAuditRequest;
using iam::v1::QueryAuditResponse;

constexpr absl::string_view kRecordPrefix = "rec/";
constexpr size_t kSequenceDigits = 20;
constexpr absl::string_view kPageTokenPrefix = "a:";
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int64_t kMaxSequence = std::numeric_limits<int64_t>::max();
// A failing background flush retries every tick; say so once, then only
// every this many failures.
constexpr int kFailuresPerLogLine = 100;

std::string RecordKey(int64_t sequence) {
  return absl::StrFormat("%s%020d", kRecordPrefix, sequence);
}

absl::StatusOr<int64_t> ParseRecordKey(absl::string_view key) {
  absl::string_view digits = key;
  int64_t sequence;
  if (!absl::ConsumePrefix(&digits, kRecordPrefix) ||
      digits.size() != kSequenceDigits ||
      !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &sequence)) {
    return absl::DataLossError(absl::StrCat("malformed audit record key \"",
                                            absl::CHexEscape(key), "\""));
  }
  return sequence;
}

// The sequence of the first record at or after `from`, or -1 if none.
absl::StatusOr<int64_t> FirstSequenceFrom(const Store& store, int64_t from) {
  absl::StatusOr<int64_t> found = -1;
  RETURN_IF_ERROR(store.ScanFrom(kAuditColumn, kRecordPrefix, RecordKey(from),
                                 [&](absl::string_view key, absl::string_view) {
                                   found = ParseRecordKey(key);
                                   return false;
                                 }));
  return found;
}

// The highest sequence in the store, or 0 if there is none. The Store only
// scans forwards, so rather than read the whole log, this binary-searches
// with seeks: about 64 of them, each reading one key.
absl::StatusOr<int64_t> LastSequence(const Store& store) {
  ASSIGN_OR_RETURN(int64_t low, FirstSequenceFrom(store, 0));
  if (low < 0) return 0;
  // Invariant: `low` is a stored sequence and none is above `high`.
  int64_t high = kMaxSequence;
  while (low < high) {
    const int64_t mid = low + (high - low) / 2 + 1;
    ASSIGN_OR_RETURN(const int64_t found, FirstSequenceFrom(store, mid));
    if (found >= 0) {
      low = found;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

std::string EncodePageToken(int64_t last_sequence) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kPageTokenPrefix, last_sequence));
}

// The sequence a page token continues after.
absl::StatusOr<int64_t> DecodePageToken(absl::string_view token) {
  std::string decoded;
  absl::string_view rest;
  int64_t sequence = -1;
  if (absl::WebSafeBase64Unescape(token, &decoded)) {
    rest = decoded;
    if (!absl::ConsumePrefix(&rest, kPageTokenPrefix) ||
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

absl::Status ValidateQuery(const QueryAuditRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be between 1 and ", kMaxPageSize, " (0 means ",
        kDefaultPageSize, "); got ", request.page_size()));
  }
  if (request.since_unix_micros() < 0 || request.until_unix_micros() < 0) {
    return absl::InvalidArgumentError(
        "since_unix_micros and until_unix_micros must not be negative (0 "
        "means unbounded)");
  }
  if (request.since_unix_micros() != 0 && request.until_unix_micros() != 0 &&
      request.since_unix_micros() > request.until_unix_micros()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "since_unix_micros (", request.since_unix_micros(),
        ") is after until_unix_micros (", request.until_unix_micros(), ")"));
  }
  if (!iam::v1::AuditOutcome_IsValid(request.outcome())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome ", request.outcome(), " is not a known AuditOutcome"));
  }
  return absl::OkStatus();
}

bool Matches(const AuditRecord& record, const QueryAuditRequest& request) {
  return (request.person_id().empty() ||
          record.person_id() == request.person_id()) &&
         (request.caller().empty() || record.caller() == request.caller()) &&
         absl::StartsWith(record.action(), request.action_prefix()) &&
         (request.target().empty() || record.target() == request.target()) &&
         (request.outcome() == iam::v1::AUDIT_OUTCOME_UNSPECIFIED ||
          record.outcome() == request.outcome()) &&
         (request.since_unix_micros() == 0 ||
          record.time_unix_micros() >= request.since_unix_micros()) &&
         (request.until_unix_micros() == 0 ||
          record.time_unix_micros() <= request.until_unix_micros());
}

void AddToBatch(const AuditRecord& record, WriteBatch* batch) {
  batch->Put(kAuditColumn, RecordKey(record.sequence()),
             record.SerializeAsString());
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreAuditLog>> StoreAuditLog::Open(
    Store* store, const Clock* clock) {
  return Open(store, clock, Options());
}

absl::StatusOr<std::unique_ptr<StoreAuditLog>> StoreAuditLog::Open(
    Store* store, const Clock* clock, Options options) {
  if (store == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError(
        "StoreAuditLog needs a store and a clock");
  }
  if (options.flush_interval <= absl::ZeroDuration() ||
      options.max_records_scanned_per_query < 1) {
    return absl::InvalidArgumentError(
        "StoreAuditLog needs a positive flush_interval and "
        "max_records_scanned_per_query");
  }
  ASSIGN_OR_RETURN(const int64_t last, LastSequence(*store));
  if (last == kMaxSequence) {
    return absl::FailedPreconditionError(
        "the audit log has no sequence numbers left");
  }
  return absl::WrapUnique(new StoreAuditLog(store, clock, options, last + 1));
}

StoreAuditLog::StoreAuditLog(Store* store, const Clock* clock, Options options,
                             int64_t next_sequence)
    : store_(store),
      clock_(clock),
      options_(options),
      next_sequence_(next_sequence) {
  flusher_ = std::thread([this] { FlushLoop(); });
}

StoreAuditLog::~StoreAuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  flusher_.join();
  absl::MutexLock write_lock(&write_mu_);
  const absl::Status status = WritePendingLocked();
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    std::fprintf(
        stderr,
        "audit: final flush failed; %zu buffered records are lost: %s\n",
        pending_.size(), status.ToString().c_str());
  }
}

void StoreAuditLog::AssignLocked(AuditRecord* record) {
  record->set_sequence(next_sequence_++);
  record->set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
}

void StoreAuditLog::RequeueLocked(std::vector<AuditRecord> records) {
  pending_.insert(pending_.begin(), std::make_move_iterator(records.begin()),
                  std::make_move_iterator(records.end()));
}

absl::StatusOr<int64_t> StoreAuditLog::Append(AuditRecord record) {
  absl::MutexLock write_lock(&write_mu_);
  // Buffered records have lower sequences: write them in the same batch so
  // the store never holds a record whose predecessors are still buffered.
  std::vector<AuditRecord> buffered;
  {
    absl::MutexLock lock(&mu_);
    AssignLocked(&record);
    buffered.swap(pending_);
  }
  WriteBatch batch;
  for (const AuditRecord& r : buffered) AddToBatch(r, &batch);
  AddToBatch(record, &batch);
  const absl::StatusOr<Revision> committed = store_->Commit(batch);
  if (!committed.ok()) {
    absl::MutexLock lock(&mu_);
    RequeueLocked(std::move(buffered));
    // Give the sequence back unless a later append already took the next.
    if (next_sequence_ == record.sequence() + 1)
      next_sequence_ = record.sequence();
    return committed.status();
  }
  return record.sequence();
}

void StoreAuditLog::AppendAsync(AuditRecord record) {
  absl::MutexLock lock(&mu_);
  AssignLocked(&record);
  pending_.push_back(std::move(record));
}

absl::Status StoreAuditLog::Flush() {
  absl::MutexLock write_lock(&write_mu_);
  return WritePendingLocked();
}

absl::Status StoreAuditLog::WritePendingLocked() {
  // Hand AppendAsync a buffer already sized like the last batch, so its
  // push_back rarely reallocates under mu_.
  std::vector<AuditRecord> records;
  records.reserve(last_batch_size_);
  {
    absl::MutexLock lock(&mu_);
    records.swap(pending_);
  }
  last_batch_size_ = records.size();
  if (records.empty()) return absl::OkStatus();
  WriteBatch batch;
  for (const AuditRecord& r : records) AddToBatch(r, &batch);
  absl::Status status = store_->WriteUnsynced(batch);
  if (!status.ok()) {
    absl::MutexLock lock(&mu_);
    RequeueLocked(std::move(records));
  }
  return status;
}

void StoreAuditLog::FlushLoop() {
  while (true) {
    const absl::Time next_tick = absl::Now() + options_.flush_interval;
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithDeadline(absl::Condition(&stopping_), next_tick)) return;
    }
    absl::MutexLock write_lock(&write_mu_);
    const absl::Status status = WritePendingLocked();
    // Never print records: they name people and what they did.
    if (!status.ok()) {
      if (failed_flushes_in_a_row_++ % kFailuresPerLogLine == 0) {
        size_t waiting;
        {
          absl::MutexLock lock(&mu_);
          waiting = pending_.size();
        }
        std::fprintf(stderr,
                     "audit: background flush failed (%d in a row, %zu records "
                     "waiting; retrying every tick): %s\n",
                     failed_flushes_in_a_row_, waiting,
                     status.ToString().c_str());
      }
    } else if (failed_flushes_in_a_row_ > 0) {
      std::fprintf(stderr,
                   "audit: background flush recovered after %d failures\n",
                   failed_flushes_in_a_row_);
      failed_flushes_in_a_row_ = 0;
    }
  }
}

absl::StatusOr<QueryAuditResponse> StoreAuditLog::Query(
    const QueryAuditRequest& request) const {
  RETURN_IF_ERROR(ValidateQuery(request));
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  int64_t start = 0;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(const int64_t after,
                     DecodePageToken(request.page_token()));
    start = after + 1;
  }

  QueryAuditResponse response;
  absl::Status error;
  int scanned = 0;
  int64_t last_scanned = -1;
  bool more = false;
  RETURN_IF_ERROR(store_->ScanFrom(
      kAuditColumn, kRecordPrefix, RecordKey(start),
      [&](absl::string_view key, absl::string_view value) {
        if (response.records_size() == page_size ||
            scanned == options_.max_records_scanned_per_query) {
          more = true;
          return false;
        }
        absl::StatusOr<int64_t> sequence = ParseRecordKey(key);
        AuditRecord record;
        if (!sequence.ok()) {
          error = sequence.status();
          return false;
        }
        if (!record.ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
          error = absl::DataLossError(
              absl::StrCat("audit record ", *sequence, " cannot be parsed"));
          return false;
        }
        ++scanned;
        last_scanned = *sequence;
        if (Matches(record, request))
          *response.add_records() = std::move(record);
        return true;
      }));
  RETURN_IF_ERROR(error);
  if (more) response.set_next_page_token(EncodePageToken(last_scanned));
  return response;
}

}  // namespace iam::audit
