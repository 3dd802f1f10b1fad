// AuditLog: the append-only, tamper-evident record of every change and every
// decision: who did it, what, to what, why, and at which revision.
//
// Every record gets a sequence number (dense, from 1, in the order records
// are written) and carries the SHA-256 of its predecessor's canonical bytes
// (record_format.h), so the records form a hash chain. Every N records or
// every second (and at shutdown) a checkpoint signs the chain head with the
// server's Ed25519 key. VerifyAuditLog (verifier.h) recomputes both.
//
// Durability: Append and AppendThen acknowledge a record only once it is
// synced. All records go through one writer thread that assigns sequences and
// hashes in order and writes everything queued so far in one batch; a batch
// holding any synced record is one synced Store::Commit, so concurrent
// writers share one fsync (group commit) and the chain on disk always equals
// the sequence order. AppendAsync records (decisions) are buffered and
// written at least every flush_interval (100 ms), on Flush and on
// destruction; a crash loses at most that window of them, and since the log
// is written in order, what a crash loses is always a suffix of the chain.
//
// Indexes (by person, caller, target, alert) are kept by a second thread:
// once records are written, their index entries are held in memory (queries
// read them there) and written, as one posting per value, in unsynced writes
// once they cover index_window_records records or index_window_age, the last
// write moving the meta/indexed marker. They are derived data, so they stay
// off the synced path; Open indexes whatever a crash left unindexed, and
// queries read the few records past the in-memory part directly.
//
// Completions (AppendThen's callbacks, Append's wake-ups) run on a third
// thread, so that the writer starts the next batch while the last one's
// callers are answered; when nothing is queued for the writer, and no
// earlier completion is pending, the writer runs them itself (one thread
// hand-off less for a lone synced append). Either way, in write order.
//
// If a write fails, nothing in it is acknowledged: synced appenders get the
// error, buffered records are kept for the next write, and the chain resumes
// from the last record that was written.
//
// Thread-safe: any number of threads may call any method concurrently.
#ifndef IAM_SERVICES_AUDIT_AUDIT_LOG_H_
#define IAM_SERVICES_AUDIT_AUDIT_LOG_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/iam/v1/audit.pb.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/audit/alerts.h"
#include "services/audit/person_keys.h"
#include "services/audit/record_format.h"
#include "services/audit/signer.h"
#include "services/common/clock.h"
#include "services/common/store.h"

namespace iam::audit {

// Called once with the record's sequence when it is synced, or the error.
using AppendCallback = std::function<void(absl::StatusOr<int64_t>)>;

// Where a change and its audit record were written together.
struct ChangeWritten {
  int64_t sequence = 0;  // the record's
  Revision revision = 0;  // the change's (and the record's revision field)
};
// Called once when a change and its record are synced, or with the error.
using ChangeCallback = std::function<void(absl::StatusOr<ChangeWritten>)>;

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Appends `record` and returns its sequence once it is synced to stable
  // storage. Assigns its sequence, time and chain fields, overwriting what
  // `record` carried. Records appended (in any mode) before this call are
  // written no later than this one. (AppendThen, waiting for the outcome.)
  absl::StatusOr<int64_t> Append(iam::v1::AuditRecord record);

  // Like Append, but returns at once and calls `done` when the record is
  // synced (or could not be). For handlers that must not block a thread.
  // `done` runs on the log's completion thread (the writer goes on with
  // the next batch meanwhile) or, when the writer is idle, on the writer,
  // in the order the records were written: it must be quick and must not
  // block on the log.
  void AppendThen(iam::v1::AuditRecord record, AppendCallback done) {
    AppendThen(std::move(record), WriteBatch(), std::move(done));
  }
  // Like AppendThen, and applies `with` in the same synced write as the
  // record: state that must be stored exactly when its record is (a door's
  // anti-passback presence). If the write fails, neither is applied.
  virtual void AppendThen(iam::v1::AuditRecord record, WriteBatch with,
                          AppendCallback done) = 0;

  // Writes `change` (a service's state change) and `record`, its audit
  // record, in one synced write, and sets the record's revision to the one
  // that write commits at (the revision the change is acknowledged with).
  // So a change is never stored without its record, and costs one synced
  // round, not a commit followed by an Append. If the write fails, neither
  // is applied. `done` runs as AppendThen's does. Change records are
  // chained last in their write, so one may take a higher sequence than a
  // record appended after it that went into the same write.
  virtual void AppendChangeThen(iam::v1::AuditRecord record, WriteBatch change,
                                ChangeCallback done) = 0;
  // AppendChangeThen, waiting for the outcome.
  absl::StatusOr<ChangeWritten> AppendChange(iam::v1::AuditRecord record,
                                             WriteBatch change);

  // Buffers `record` and returns at once; its time is taken now, its
  // sequence when it is written (at least every 100 ms, on Flush, and on
  // destruction). For decision records, whose loss in a crash is acceptable.
  virtual void AppendAsync(iam::v1::AuditRecord record) = 0;

  // Writes (without syncing) every record appended before the call, and
  // waits (up to 5 s) for their index entries. On error the records stay
  // buffered and a later write retries them.
  virtual absl::Status Flush() = 0;

  // Written records matching every non-empty filter of `request`, in
  // sequence order. The time range is inclusive at both ends. page_size 0
  // means 100; below 0 or above 1000 is INVALID_ARGUMENT, as are a page_token
  // no earlier response returned, negative times, and since > until. A page
  // may hold fewer records than page_size (even none) while next_page_token
  // is set: keep paging until the token is empty. Sealed personal text is
  // decrypted into `reason` while the person's key exists.
  virtual absl::StatusOr<iam::v1::QueryAuditResponse> Query(
      const iam::v1::QueryAuditRequest& request) const = 0;
};

// An AuditLog in the Store's audit column (layout in record_format.h), with
// per-person keys in the audit_keys column.
class StoreAuditLog final : public AuditLog {
 public:
  struct Options {
    // How long a buffered record may wait to be written (real time).
    absl::Duration flush_interval = absl::Milliseconds(100);
    // Query and Tail read at most this many records per call, so that a
    // filter that matches rarely cannot make one call scan the whole log.
    int max_records_scanned_per_query = 10000;
    // A checkpoint after this many records, or after checkpoint_interval
    // if any record is unsigned, whichever comes first.
    int checkpoint_every_records = 1000;
    absl::Duration checkpoint_interval = absl::Seconds(1);
    // Most records one write takes (larger queues take several writes).
    int max_records_per_write = 20000;
    // Buffered records beyond this are dropped (with a message on stderr)
    // while the store keeps failing, so memory stays bounded.
    size_t max_buffered_records = size_t{1} << 20;
    // AppendAsync waits (back-pressure on the deciding caller) while this
    // many records are already queued, so that a writer that falls behind
    // cannot grow memory without bound nor widen what a crash may lose
    // beyond one write plus this backlog.
    size_t max_async_backlog = 65536;
    // The indexer keeps the index entries of the newest records in memory
    // (queries read them there) and writes them as one batch of postings
    // once they cover this many records or the oldest is this old, or on
    // Flush: a value that recurs within the window costs one entry.
    int64_t index_window_records = 65536;
    absl::Duration index_window_age = absl::Seconds(4);
    // Alert rules (ValidateAlertRules must accept them).
    std::vector<iam::v1::AuditAlertRule> alert_rules;
    // Records older than this are pruned at a checkpoint boundary, checked
    // every prune_interval. Zero keeps everything.
    absl::Duration retention = absl::ZeroDuration();
    absl::Duration prune_interval = absl::Hours(1);
  };

  // Opens the log in `store`, recovers the chain head, and starts the
  // writer. DATA_LOSS if a stored key or the last record is malformed.
  // REQUIRES: store, clock and signer outlive the log; the store has the
  // kAuditColumn and kAuditKeysColumn columns.
  static absl::StatusOr<std::unique_ptr<StoreAuditLog>> Open(
      Store* store, const Clock* clock, const CheckpointSigner* signer,
      Options options);
  // With a signing key that lives only in memory (tests).
  static absl::StatusOr<std::unique_ptr<StoreAuditLog>> Open(Store* store,
                                                              const Clock* clock);
  static absl::StatusOr<std::unique_ptr<StoreAuditLog>> Open(Store* store,
                                                              const Clock* clock,
                                                              Options options);

  StoreAuditLog(const StoreAuditLog&) = delete;
  StoreAuditLog& operator=(const StoreAuditLog&) = delete;

  // Stops the writer after writing what is queued and a final checkpoint; if
  // that fails, the error goes to stderr and those records are lost.
  // REQUIRES: no other call is in progress or follows.
  ~StoreAuditLog() override;

  using AuditLog::AppendThen;
  void AppendThen(iam::v1::AuditRecord record, WriteBatch with,
                  AppendCallback done) override;
  void AppendChangeThen(iam::v1::AuditRecord record, WriteBatch change,
                        ChangeCallback done) override;
  void AppendAsync(iam::v1::AuditRecord record) override;
  absl::Status Flush() override;
  absl::StatusOr<iam::v1::QueryAuditResponse> Query(
      const iam::v1::QueryAuditRequest& request) const override;

  // --- Reading the log as it grows (Tail) ---

  // Every record up to this sequence is written (0: none yet).
  int64_t WrittenSequence() const;
  // The records matching `filter` among [from, WrittenSequence()], reading
  // at most max_records_scanned_per_query and returning at most `max_records`;
  // next_sequence is where the next read continues (no gaps, no repeats).
  // INVALID_ARGUMENT for a bad filter or from < 1.
  absl::StatusOr<iam::v1::TailAuditResponse> ReadFrom(
      const iam::v1::TailAuditRequest& filter, int64_t from,
      int max_records) const;
  // Calls `fn` once WrittenSequence() >= sequence: at once (inline) if it
  // already is, else on the writer thread. Returns an id for CancelNotify.
  uint64_t NotifyWhenWritten(int64_t sequence, std::function<void()> fn);
  // True if `fn` of that id will not run; false if it ran or is running.
  bool CancelNotify(uint64_t id);

  // --- Integrity, export, retention, privacy ---

  // Verifies the whole retained log (VerifyAuditLog with this log's key).
  absl::StatusOr<iam::v1::VerifyAuditResponse> Verify() const;
  // JSON lines for a range of written records (see ExportAuditResponse).
  absl::StatusOr<iam::v1::ExportAuditResponse> Export(
      const iam::v1::ExportAuditRequest& request) const;
  // Destroys the person's key in the same synced write as the audit record
  // of the erase (action "audit.person.erase"), which it returns.
  // INVALID_ARGUMENT without person_id or reason.
  absl::StatusOr<iam::v1::ErasePersonDataResponse> ErasePersonData(
      absl::string_view caller, absl::string_view person_id,
      absl::string_view reason);
  // Removes the records older than `cutoff` up to the newest checkpoint
  // signed before it, keeping that checkpoint as the anchor of the chain
  // that remains. Returns the first retained sequence.
  absl::StatusOr<int64_t> PruneBefore(absl::Time cutoff);
  // Writes a synced checkpoint of the current head now (if any record is
  // unsigned), and waits for it.
  absl::Status Checkpoint();

  const AuditPublicKey& public_key() const { return signer_->public_key(); }

  // Where a query finds the records listed under an index prefix ("<index>
  // <value>\0", see record_format.h), read atomically: the stored postings up
  // to `indexed` (the meta/indexed marker), then `sequences`, held in memory,
  // up to `memory_last`; records after that are not listed yet.
  struct IndexView {
    std::string prefix;
    int64_t indexed = 0;
    int64_t memory_last = 0;
    std::vector<int64_t> sequences;  // ascending
  };
  IndexView ViewIndex(std::string prefix) const;

 private:
  struct Pending;
  struct ChainState {
    int64_t next_sequence = 1;
    std::string head_hash;
    int64_t last_time_micros = 0;
    int64_t since_checkpoint = 0;  // records after the last checkpoint
    absl::Time last_checkpoint;    // real time
  };

  StoreAuditLog(Store* store, const Clock* clock, const CheckpointSigner* signer,
                Options options, ChainState chain, int64_t indexed,
                std::unique_ptr<AlertEvaluator> alerts);

  void Enqueue(Pending pending);
  void WriterLoop();
  // Index entries of written records up to `last` (sequence), for the
  // indexer thread. Writer thread only.
  void QueueIndexKeys(IndexEntries entries, int64_t last);

  void IndexerLoop();
  void PruneLoop();
  // Writes `work` in batches; runs the callbacks. Writer thread only.
  void WriteWork(std::vector<Pending>& work, bool final);
  // Chains `record` into `batch`; adds its index entries to
  // `index_entries` (for the indexer, once the batch is written). Writer
  // thread only. SealRecord then ChainRecord.
  absl::Status AddRecord(iam::v1::AuditRecord& record, bool seal,
                         std::string* plain_reason, WriteBatch* batch,
                         IndexEntries* index_entries);
  // Seals the personal free text of `record`, which will take `sequence`
  // (bound into the seal); a new person key goes into `batch`.
  absl::Status SealRecord(iam::v1::AuditRecord& record, int64_t sequence,
                          std::string* plain_reason, WriteBatch* batch);
  // Gives `record` the next sequence and the chain's head, and puts it.
  void ChainRecord(iam::v1::AuditRecord& record, WriteBatch* batch,
                   IndexEntries* index_entries);
  // Adds a checkpoint if one is due after this batch.
  void MaybeCheckpoint(bool want_checkpoint, WriteBatch* batch);
  void AddCheckpoint(WriteBatch* batch);
  void PublishWritten(int64_t written);
  using Completion = std::pair<AppendCallback, absl::StatusOr<int64_t>>;
  // Queues callbacks for the completion thread, in order, or runs them on
  // the writer when `last_of_work` and nothing else is queued or pending.
  void Complete(std::vector<Completion> completions, bool last_of_work);
  void CompleterLoop();
  // Decrypts sealed text for readers.
  void Unseal(iam::v1::AuditRecord* record) const;
  absl::StatusOr<iam::v1::AuditRecord> ReadRecord(int64_t sequence) const;

  Store* const store_;
  const Clock* const clock_;
  const CheckpointSigner* const signer_;
  std::unique_ptr<CheckpointSigner> owned_signer_;  // for the in-memory key
  const Options options_;
  PersonKeyring keyring_;

  // Writer thread only.
  ChainState chain_;
  std::unique_ptr<AlertEvaluator> alerts_;

  absl::Mutex mu_;
  std::vector<Pending> queue_ ABSL_GUARDED_BY(mu_);
  int urgent_ ABSL_GUARDED_BY(mu_) = 0;  // queued entries someone waits for
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  mutable absl::Mutex written_mu_;
  int64_t written_ ABSL_GUARDED_BY(written_mu_) = 0;
  uint64_t next_listener_ ABSL_GUARDED_BY(written_mu_) = 1;
  std::map<uint64_t, std::pair<int64_t, std::function<void()>>> listeners_
      ABSL_GUARDED_BY(written_mu_);

  // The in-memory index of the records after the meta/indexed marker:
  // `index_writing_` (being written by the indexer) lists those in
  // (indexed_, index_writing_last_], `index_tail_` those up to
  // index_queue_last_. Each is a list of immutable (prefix, sequence) chunks,
  // one per writer batch: the writer adds chunks, the indexer turns them into
  // postings, and a query copies the chunk pointers under index_mu_ and scans
  // them (at most a window's worth) outside it, so a query never holds up
  // the writer.
  using IndexChunks = std::vector<std::shared_ptr<const IndexEntries>>;
  mutable absl::Mutex index_mu_;
  IndexChunks index_tail_ ABSL_GUARDED_BY(index_mu_);
  absl::Time index_tail_since_ ABSL_GUARDED_BY(index_mu_);  // oldest entry
  IndexChunks index_writing_ ABSL_GUARDED_BY(index_mu_);
  int64_t index_writing_last_ ABSL_GUARDED_BY(index_mu_) = 0;
  int64_t index_queue_last_ ABSL_GUARDED_BY(index_mu_) = 0;
  bool index_flush_requested_ ABSL_GUARDED_BY(index_mu_) = false;
  bool index_stopping_ ABSL_GUARDED_BY(index_mu_) = false;
  // Every record up to this sequence is indexed (the meta/indexed marker).
  std::atomic<int64_t> indexed_{0};

  absl::Mutex completion_mu_;
  std::vector<Completion> completions_ ABSL_GUARDED_BY(completion_mu_);
  bool completer_stopping_ ABSL_GUARDED_BY(completion_mu_) = false;
  // Set while completions run (on the completion thread or the writer).
  bool completing_ ABSL_GUARDED_BY(completion_mu_) = false;

  absl::Mutex prune_mu_;  // one prune at a time
  int failed_writes_in_a_row_ = 0;  // writer thread only

  std::thread writer_;
  std::thread completer_;
  std::thread indexer_;
  std::thread pruner_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_AUDIT_LOG_H_
