// AuditLog: the append-only record of every change and every decision, with
// who did it, what, to what, why, and at which revision.
//
// Changes are appended synchronously and are durable when Append returns.
// Decisions, which come thousands a second, are appended to a buffer that a
// background thread writes out; they cost the caller a push onto a vector.
// Every record gets a sequence number, in the order of the appends, and the
// time it was appended.
//
// AuditLog is the interface services depend on; StoreAuditLog keeps the log
// in a Store. A later issue makes the log tamper-evident behind the same
// interface.
//
// Thread-safe: any number of threads may call any method concurrently.
#ifndef IAM_SERVICES_AUDIT_AUDIT_LOG_H_
#define IAM_SERVICES_AUDIT_AUDIT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/iam/v1/audit.pb.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::audit {

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends `record` and makes it durable (synced) before returning. Assigns
  // its sequence and time, overwriting whatever `record` carried, and returns
  // the sequence. Records appended asynchronously before this call are
  // written no later than this one.
  virtual absl::StatusOr<int64_t> Append(iam::v1::AuditRecord record) = 0;

  // Appends `record` to a buffer and returns at once; the sequence and time
  // are assigned now. The buffer is written in the background at least every
  // 100 ms, by Flush(), and on destruction. For decision records, whose loss
  // in a crash is acceptable.
  virtual void AppendAsync(iam::v1::AuditRecord record) = 0;

  // Writes every buffered record appended before the call. On error the
  // records stay buffered and a later flush retries them.
  virtual absl::Status Flush() = 0;

  // Written records (buffered ones once flushed) matching every non-empty
  // filter of `request`, in sequence order. The time range is inclusive at
  // both ends. page_size 0 means 100; below 0 or above 1000 is
  // INVALID_ARGUMENT, as are a page_token no earlier response returned,
  // negative times, and since > until. A page may hold fewer records than
  // page_size (even none) while next_page_token is set: keep paging until
  // the token is empty.
  virtual absl::StatusOr<iam::v1::QueryAuditResponse> Query(
      const iam::v1::QueryAuditRequest& request) const = 0;
};

// An AuditLog in the Store's audit column: each record is a serialized
// iam::v1::AuditRecord under "rec/<sequence as 20 zero-padded digits>".
// Sequences start at 1 and continue after a restart. A sequence may be
// skipped when a synchronous Append fails while other appends are running.
class StoreAuditLog final : public AuditLog {
 public:
  struct Options {
    // How often the background thread writes buffered records (real time,
    // not the injected clock).
    absl::Duration flush_interval = absl::Milliseconds(100);
    // Query reads at most this many records per call, so that a filter that
    // matches rarely cannot make one call scan the whole log.
    int max_records_scanned_per_query = 10000;
  };

  // Opens the log in `store` and starts the background writer. DATA_LOSS if
  // a stored key is malformed. REQUIRES: store and clock outlive the log.
  static absl::StatusOr<std::unique_ptr<StoreAuditLog>> Open(Store* store,
                                                              const Clock* clock);
  static absl::StatusOr<std::unique_ptr<StoreAuditLog>> Open(Store* store,
                                                              const Clock* clock,
                                                              Options options);

  StoreAuditLog(const StoreAuditLog&) = delete;
  StoreAuditLog& operator=(const StoreAuditLog&) = delete;

  // Stops the background writer and writes what is still buffered; if that
  // fails, the error goes to stderr and those records are lost.
  ~StoreAuditLog() override;

  absl::StatusOr<int64_t> Append(iam::v1::AuditRecord record) override;
  void AppendAsync(iam::v1::AuditRecord record) override;
  absl::Status Flush() override;
  absl::StatusOr<iam::v1::QueryAuditResponse> Query(
      const iam::v1::QueryAuditRequest& request) const override;

 private:
  StoreAuditLog(Store* store, const Clock* clock, Options options,
                int64_t next_sequence);

  // Stamps `record` with the next sequence and the time.
  void AssignLocked(iam::v1::AuditRecord* record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Puts records whose write failed back at the front of the buffer.
  void RequeueLocked(std::vector<iam::v1::AuditRecord> records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Writes the buffer in one unsynced batch.
  absl::Status WritePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // The background writer's loop.
  void FlushLoop();

  Store* const store_;
  const Clock* const clock_;
  const Options options_;

  // Serializes every write to the store, and each write takes everything
  // buffered so far: the records in the store are therefore always all those
  // below some sequence, and a query never skips one that is written later.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  size_t last_batch_size_ ABSL_GUARDED_BY(write_mu_) = 0;
  int failed_flushes_in_a_row_ ABSL_GUARDED_BY(write_mu_) = 0;

  // Held only for a few instructions, so that AppendAsync stays cheap.
  absl::Mutex mu_;
  int64_t next_sequence_ ABSL_GUARDED_BY(mu_);
  std::vector<iam::v1::AuditRecord> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread flusher_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_AUDIT_LOG_H_
