#include "services/common/rocksdb_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "services/common/status_macros.h"

namespace iam {
namespace {

// The key in the meta family that holds the last committed revision.
constexpr absl::string_view kRevisionKey = "revision";

// Group commit sizing, as in LevelDB: a group grows to 1 MiB, but a small
// leading batch only takes 128 KiB of company so its own latency stays low.
constexpr size_t kMaxGroupBytes = size_t{1} << 20;
constexpr size_t kSmallBatchBytes = size_t{128} << 10;

// Memory: one block cache shared by every column family, and a cap on all
// memtables together.
constexpr size_t kBlockCacheBytes = size_t{16} << 20;
constexpr size_t kWriteBufferBytes = size_t{8} << 20;
// The audit column takes every record: a larger memtable switches (each
// switch opens a new WAL file, and one was seen to hold up the synced writes
// queued behind it) and flushes a quarter as often.
constexpr size_t kAuditWriteBufferBytes = size_t{32} << 20;
constexpr size_t kAllWriteBuffersBytes = size_t{64} << 20;

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Maps a RocksDB status onto the absl code a caller should act on; `what`
// names the operation and column so the message says what failed.
absl::Status FromRocksDb(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace() && !absl::StrContains(message, "No space left")) {
        absl::StrAppend(&message, " (No space left on device)");
      }
      if (s.IsPathNotFound()) return absl::NotFoundError(message);
      return absl::UnavailableError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(message);
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kExpired:
      return absl::DeadlineExceededError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    case rocksdb::Status::kCompactionTooLarge:
      return absl::ResourceExhaustedError(message);
    case rocksdb::Status::kColumnFamilyDropped:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

// Whether Open failed because RocksDB's LOCK file is held, and by whom. The
// messages are those of RocksDB's POSIX file system.
enum class LockHolder { kNone, kThisProcess, kOtherProcess };

LockHolder FindLockHolder(const rocksdb::Status& s) {
  if (!s.IsIOError()) return LockHolder::kNone;
  const std::string message = s.ToString();
  if (absl::StrContains(message, "lock hold by current process")) {
    return LockHolder::kThisProcess;
  }
  if (absl::StrContains(message, "While lock file")) {
    return LockHolder::kOtherProcess;
  }
  return LockHolder::kNone;
}

std::string EncodeRevision(Revision revision) {
  std::string out(8, '\0');
  uint64_t v = static_cast<uint64_t>(revision);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

absl::StatusOr<Revision> DecodeRevision(absl::string_view bytes) {
  if (bytes.size() != 8) {
    return absl::DataLossError(absl::StrCat(
        "stored revision has ", bytes.size(), " bytes; want 8 (big-endian)"));
  }
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  if (v > static_cast<uint64_t>(std::numeric_limits<Revision>::max())) {
    return absl::DataLossError(
        absl::StrCat("stored revision ", v, " is out of range"));
  }
  return static_cast<Revision>(v);
}

// The smallest key above every key that starts with `prefix`, or "" when
// there is none (empty prefix, or all 0xff bytes).
std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

absl::Status CheckColumns(const std::vector<std::string>& columns) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& column : columns) {
    if (column.empty()) {
      return absl::InvalidArgumentError(
          "storage column names must not be empty");
    }
    if (column == rocksdb::kDefaultColumnFamilyName ||
        column == RocksDbStore::kMetaColumnFamily) {
      return absl::InvalidArgumentError(
          absl::StrCat("storage column name '", column, "' is reserved"));
    }
    if (!seen.insert(column).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("storage column '", column, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

// Names a key's "family" for the memtable's insert hints. A hint keeps the
// skip list position of the last key inserted with the same family, so a new
// key that lands right after it costs a few comparisons instead of a search
// of the whole list. `length` gives the family's length in a key (0: no
// family, no hint).
class FamilyTransform final : public rocksdb::SliceTransform {
 public:
  using Length = size_t (*)(const rocksdb::Slice& key);
  FamilyTransform(const char* name, Length length) : name_(name), length_(length) {}
  const char* Name() const override { return name_; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), length_(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return length_(key) > 0; }

 private:
  const char* const name_;
  const Length length_;
};

// The key up to and including its last '/' or NUL byte ("rec/" for
// "rec/00000000000000000042"). The services' keys grow at the end within a
// family (sequence numbers, ids from counters).
size_t UpToLastSeparator(const rocksdb::Slice& key) {
  for (size_t i = key.size(); i > 0; --i) {
    const char c = key.data()[i - 1];
    if (c == '/' || c == '\0') return i;
  }
  return 0;
}

// For the audit index column: the key up to its second '/' ("ix/p/" for
// every posting about a person), or its last '/' ("ckpt/", "meta/"). The
// indexer writes a window's postings sorted by key, one per value: a family
// per value would be hinted once per window (a hint map entry per person, no
// search saved), while a family per field lands each posting right after
// the one before.
size_t UpToIndexField(const rocksdb::Slice& key) {
  size_t last = 0;
  int slashes = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key.data()[i] != '/') continue;
    last = i + 1;
    if (++slashes == 2) break;
  }
  return last;
}

rocksdb::Options StoreOptions(rocksdb::Env* env) {
  rocksdb::Options options;
  if (env != nullptr) options.env = env;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_background_jobs = 2;
  options.write_buffer_size = kWriteBufferBytes;
  options.max_write_buffer_number = 2;
  options.db_write_buffer_size = kAllWriteBuffersBytes;
  // Every commit writes "meta", but a quiet column would otherwise pin old
  // WAL files until it happens to flush.
  options.max_total_wal_size = 4 * kAllWriteBuffersBytes;
  options.keep_log_file_num = 5;
  options.max_log_file_size = size_t{16} << 20;
  options.max_manifest_file_size = uint64_t{64} << 20;
  // Table files are synced as they are written, a megabyte at a time, so
  // that a synced commit's fdatasync does not queue behind megabytes of a
  // flush's or compaction's dirty pages (OpenWithEnv also writes tables
  // around the page cache where the file system allows it).
  options.bytes_per_sync = size_t{1} << 20;
  // Memtable inserts use a per-family hint (when a write is not grouped with
  // another one: grouped writes insert in parallel, each its own batch).
  options.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<FamilyTransform>("iam.KeyFamilyTransform",
                                        UpToLastSeparator);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks live in (and are bounded by) the block cache.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The options of one column family. The audit column holds records only:
// it grows at its end and is never rewritten (only pruned from its start),
// so its flushed files do not overlap, and with trivial moves allowed a
// compaction moves them down instead of reading and writing them again. Its
// index column takes postings scattered over the key space. Leveled
// compaction would rewrite the whole of level 1 to merge each few MB flushed
// into it (a write amplification near 30 was measured when both shared one
// column, half of a busy iamd's CPU); size-tiered (universal) compaction
// merges sorted runs of similar size instead.
rocksdb::ColumnFamilyOptions ColumnOptions(absl::string_view name,
                                          const rocksdb::Options& base) {
  rocksdb::ColumnFamilyOptions options(base);
  if (name == kAuditColumn) {
    options.write_buffer_size = kAuditWriteBufferBytes;
    options.compaction_style = rocksdb::kCompactionStyleUniversal;
    options.compaction_options_universal.allow_trivial_move = true;
  } else if (name == kAuditIndexColumn) {
    options.compaction_style = rocksdb::kCompactionStyleUniversal;
    options.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<FamilyTransform>("iam.IndexFieldTransform",
                                          UpToIndexField);
  }
  return options;
}

// Whether files in `dir` (created if missing) open with O_DIRECT; some file
// systems refuse it (tmpfs before Linux 6.6), and RocksDB would then fail
// its first flush.
bool SupportsDirectIo(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  const std::string probe = dir + "/.direct-io-probe";
  const int fd = ::open(probe.c_str(), O_CREAT | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

size_t ApproximateBytes(const WriteBatch& batch) {
  size_t bytes = 16;
  for (const WriteBatch::Op& op : batch.ops()) {
    bytes += 16 + op.key.size() + (op.value ? op.value->size() : 0);
  }
  return bytes;
}

// Sorted names of the columns `batches` touch, for error messages.
std::string ColumnsOf(const std::vector<const WriteBatch*>& batches) {
  absl::btree_set<absl::string_view> columns;
  for (const WriteBatch* batch : batches) {
    for (const WriteBatch::Op& op : batch->ops()) columns.insert(op.column);
  }
  return absl::StrJoin(columns, ", ");
}

rocksdb::Status AppendOps(
    const WriteBatch& batch,
    const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    rocksdb::WriteBatch* out) {
  const std::vector<WriteBatch::Op>& ops = batch.ops();
  for (size_t i = 0; i < ops.size(); ++i) {
    rocksdb::Status s = ops[i].value.has_value()
                            ? out->Put(families[i], ops[i].key, *ops[i].value)
                            : out->Delete(families[i], ops[i].key);
    if (!s.ok()) return s;
  }
  return rocksdb::Status::OK();
}

}  // namespace

struct RocksDbStore::Writer {
  Writer(const WriteBatch* batch,
         std::vector<rocksdb::ColumnFamilyHandle*> families,
         const BatchFinisher* finish)
      : batch(batch),
        families(std::move(families)),
        bytes(ApproximateBytes(*batch)),
        finish(finish) {}

  const WriteBatch* const batch;
  const std::vector<rocksdb::ColumnFamilyHandle*> families;  // one per op
  const size_t bytes;
  const BatchFinisher* const finish;  // null or empty: none

  absl::CondVar cv;  // signalled when done or at the head of the queue
  // Guarded by the store's mu_.
  bool done = false;
  absl::Status status;
  Revision revision = 0;
};

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(
    const std::string& dir, std::vector<std::string> columns) {
  return OpenWithEnv(dir, std::move(columns), nullptr);
}

absl::StatusOr<std::unique_ptr<RocksDbStore>> RocksDbStore::OpenWithEnv(
    const std::string& dir, std::vector<std::string> columns,
    rocksdb::Env* env) {
  RETURN_IF_ERROR(CheckColumns(columns));
  rocksdb::Options options = StoreOptions(env);
  // Flushes and compactions write around the page cache where they can.
  options.use_direct_io_for_flush_and_compaction = SupportsDirectIo(dir);

  // RocksDB must be given every family on disk, so list them first.
  std::vector<std::string> on_disk;
  const rocksdb::Status exists = options.env->FileExists(dir + "/CURRENT");
  if (exists.ok()) {
    RETURN_IF_ERROR(FromRocksDb(
        rocksdb::DB::ListColumnFamilies(options, dir, &on_disk),
        absl::StrCat("listing the column families in data directory ", dir)));
  } else if (!exists.IsNotFound()) {
    return FromRocksDb(
        exists,
        absl::StrCat("checking for a database in data directory ", dir));
  }

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (std::string& name : on_disk) names.push_back(std::move(name));
  for (const std::string& name : columns) names.push_back(name);
  names.emplace_back(kMetaColumnFamily);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& name : names) {
    if (seen.insert(name).second) {
      descriptors.emplace_back(name, ColumnOptions(name, options));
    }
  }

  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir,
                                        descriptors, &handles, &raw_db);
  if (!s.ok()) {
    switch (FindLockHolder(s)) {
      case LockHolder::kThisProcess:
        return absl::FailedPreconditionError(
            absl::StrCat("data directory ", dir,
                         " is in use by another store in this process (",
                         s.ToString(), ")"));
      case LockHolder::kOtherProcess:
        return absl::FailedPreconditionError(
            absl::StrCat("data directory ", dir,
                         " is in use by another process (", s.ToString(), ")"));
      case LockHolder::kNone:
        break;
    }
    return FromRocksDb(s, absl::StrCat("opening data directory ", dir));
  }
  std::unique_ptr<rocksdb::DB> db(raw_db);

  // Handles come back in descriptor order.
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (size_t i = 0; i < handles.size(); ++i) {
    by_name[descriptors[i].name] = handles[i];
  }
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> visible;
  for (const std::string& column : columns) visible[column] = by_name[column];
  rocksdb::ColumnFamilyHandle* meta = by_name[std::string(kMetaColumnFamily)];

  // From here on the store owns the database and closes it on every path.
  std::unique_ptr<RocksDbStore> store(new RocksDbStore(
      std::move(db), std::move(handles), std::move(visible), meta, 0));

  std::string stored;
  s = store->db_->Get(rocksdb::ReadOptions(), meta, ToSlice(kRevisionKey),
                      &stored);
  if (!s.ok() && !s.IsNotFound()) {
    return FromRocksDb(
        s, absl::StrCat("reading the revision in data directory ", dir));
  }
  if (s.ok()) {
    absl::StatusOr<Revision> revision = DecodeRevision(stored);
    if (!revision.ok()) {
      return absl::DataLossError(absl::StrCat("data directory ", dir, ": ",
                                              revision.status().message()));
    }
    absl::MutexLock lock(&store->mu_);
    store->revision_ = *revision;
  }
  return store;
}

RocksDbStore::RocksDbStore(
    std::unique_ptr<rocksdb::DB> db,
    std::vector<rocksdb::ColumnFamilyHandle*> handles,
    absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> columns,
    rocksdb::ColumnFamilyHandle* meta, Revision revision)
    : db_(std::move(db)),
      handles_(std::move(handles)),
      columns_(std::move(columns)),
      meta_(meta),
      revision_(revision) {}

RocksDbStore::~RocksDbStore() {
  // Commits are already synced; this makes WriteUnsynced data survive a
  // clean shutdown too.
  rocksdb::Status s;
  if (!write_failed_.load()) s = db_->SyncWAL();
  if (!s.ok()) {
    std::fprintf(stderr, "RocksDbStore: syncing the WAL on close: %s\n",
                 s.ToString().c_str());
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  s = db_->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "RocksDbStore: closing the database: %s\n",
                 s.ToString().c_str());
  }
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> RocksDbStore::FindColumn(
    absl::string_view column) const {
  auto it = columns_.find(column);
  if (it == columns_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown storage column '", column, "'"));
  }
  return it->second;
}

absl::StatusOr<std::vector<rocksdb::ColumnFamilyHandle*>>
RocksDbStore::ResolveColumns(const WriteBatch& batch) const {
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  families.reserve(batch.ops().size());
  for (const WriteBatch::Op& op : batch.ops()) {
    ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * family,
                     FindColumn(op.column));
    families.push_back(family);
  }
  return families;
}

absl::StatusOr<Revision> RocksDbStore::CommitWith(const WriteBatch& batch,
                                                  const BatchFinisher& finish) {
  // Checked before queueing: a bad batch must not fail its group.
  ASSIGN_OR_RETURN(std::vector<rocksdb::ColumnFamilyHandle*> families,
                   ResolveColumns(batch));
  Writer writer(&batch, std::move(families), finish ? &finish : nullptr);

  absl::MutexLock lock(&mu_);
  writers_.push_back(&writer);
  while (!writer.done && writers_.front() != &writer) writer.cv.Wait(&mu_);
  if (!writer.done) WriteGroupLocked();  // this caller leads its group
  if (!writer.status.ok()) return writer.status;
  return writer.revision;
}

void RocksDbStore::WriteGroupLocked() {
  const size_t first_bytes = writers_.front()->bytes;
  const size_t max_bytes = first_bytes <= kSmallBatchBytes
                               ? first_bytes + kSmallBatchBytes
                               : kMaxGroupBytes;
  std::vector<Writer*> group;
  size_t group_bytes = 0;
  for (Writer* w : writers_) {
    if (!group.empty() && group_bytes + w->bytes > max_bytes) break;
    group.push_back(w);
    group_bytes += w->bytes;
  }
  // Only the leader moves revision_, so it holds still while mu_ is released.
  const Revision first = revision_ + 1;
  const Revision last = revision_ + static_cast<Revision>(group.size());

  mu_.Unlock();
  absl::Status status;
  {
    rocksdb::WriteBatch merged(group_bytes + 64);
    rocksdb::Status s;
    for (size_t i = 0; i < group.size() && s.ok(); ++i) {
      const Writer* w = group[i];
      s = AppendOps(*w->batch, w->families, &merged);
      if (!s.ok() || w->finish == nullptr) continue;
      WriteBatch more;
      (*w->finish)(first + static_cast<Revision>(i), &more);
      absl::StatusOr<std::vector<rocksdb::ColumnFamilyHandle*>> families =
          ResolveColumns(more);
      s = families.ok() ? AppendOps(more, *families, &merged)
                        : rocksdb::Status::InvalidArgument(
                              std::string(families.status().message()));
    }
    // The counter goes last, in the same batch: the data and its revision
    // are replayed together or not at all.
    if (s.ok())
      s = merged.Put(meta_, ToSlice(kRevisionKey), EncodeRevision(last));
    bool written = false;
    if (s.ok()) {
      rocksdb::WriteOptions options;
      options.sync = true;
      s = db_->Write(options, &merged);
      written = true;
    }
    if (!s.ok()) {
      // Only a failed write leaves the database in doubt; a batch that could
      // not be built (a finisher naming an unknown column) wrote nothing.
      if (written) write_failed_.store(true);
      std::vector<const WriteBatch*> batches;
      for (const Writer* w : group) batches.push_back(w->batch);
      status = FromRocksDb(
          s,
          absl::StrCat("committing revision", group.size() > 1 ? "s " : " ",
                       first, group.size() > 1 ? absl::StrCat("..", last) : "",
                       " to columns [", ColumnsOf(batches), "]"));
    }
  }
  mu_.Lock();

  if (status.ok()) {
    revision_ = last;
    stats_.commits += static_cast<int64_t>(group.size());
    ++stats_.synced_writes;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    Writer* w = writers_.front();
    if (w != group[i]) {
      std::fprintf(stderr, "RocksDbStore: commit queue out of order\n");
      std::abort();
    }
    writers_.pop_front();
    w->status = status;
    w->revision = status.ok() ? first + static_cast<Revision>(i) : 0;
    w->done = true;
    w->cv.Signal();
  }
  if (!writers_.empty()) writers_.front()->cv.Signal();  // the next leader
}

absl::Status RocksDbStore::WriteUnsynced(const WriteBatch& batch) {
  ASSIGN_OR_RETURN(std::vector<rocksdb::ColumnFamilyHandle*> families,
                   ResolveColumns(batch));
  rocksdb::WriteBatch rocks_batch(ApproximateBytes(batch));
  rocksdb::Status s = AppendOps(batch, families, &rocks_batch);
  if (s.ok()) {
    rocksdb::WriteOptions options;
    options.sync = false;
    s = db_->Write(options, &rocks_batch);
    if (!s.ok()) write_failed_.store(true);
  }
  return FromRocksDb(
      s, absl::StrCat("unsynced write to columns [", ColumnsOf({&batch}), "]"));
}

absl::StatusOr<std::string> RocksDbStore::Get(absl::string_view column,
                                              absl::string_view key) const {
  ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * family, FindColumn(column));
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), family, ToSlice(key), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no such key in storage column '", column, "'"));
  }
  RETURN_IF_ERROR(
      FromRocksDb(s, absl::StrCat("reading storage column '", column, "'")));
  return value;
}

absl::Status RocksDbStore::Scan(
    absl::string_view column, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  return ScanFrom(column, prefix, prefix, fn);
}

absl::Status RocksDbStore::ScanFrom(
    absl::string_view column, absl::string_view prefix, absl::string_view start,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * family, FindColumn(column));
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice end_slice(end);
  rocksdb::ReadOptions options;
  if (!end.empty()) options.iterate_upper_bound = &end_slice;
  // The iterator reads from the snapshot taken when it is created, so fn
  // sees one consistent state even if it writes to the store itself.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
  for (it->Seek(ToSlice(std::max(start, prefix))); it->Valid(); it->Next()) {
    const absl::string_view key = ToView(it->key());
    if (!absl::StartsWith(key, prefix)) break;
    if (!fn(key, ToView(it->value()))) break;
  }
  return FromRocksDb(it->status(),
                     absl::StrCat("scanning storage column '", column, "'"));
}

Revision RocksDbStore::CurrentRevision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

RocksDbStore::CommitStats RocksDbStore::GetCommitStats() const {
  absl::ReaderMutexLock lock(&mu_);
  return stats_;
}

}  // namespace iam
