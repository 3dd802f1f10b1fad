// Commit throughput of RocksDbStore for small batches with 1, 8 and 64
// threads, which shows what group commit buys (callers that wait together
// share one fsync), next to a raw fdatasync loop on a file in the same
// directory: the price of one sync on this disk, and so the ceiling for
// commits without group commit.
//
//   bazel run //services/common:rocksdb_store_benchmark
//
// The data goes to a fresh directory under $IAM_BENCHMARK_DIR (default
// $TEST_TMPDIR, then /tmp), removed at the end. Point it at the disk the
// service will use: a tmpfs makes every sync free.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/common/rocksdb_store.h"

namespace iam {
namespace {

std::string* g_dir = nullptr;                      // this run's directory
std::unique_ptr<RocksDbStore>* g_store = nullptr;  // open during BM_Commit

std::string StoreDir() { return *g_dir + "/store"; }

// A fresh store for every run, so each run's stats are its own.
void OpenStore(const benchmark::State&) {
  std::filesystem::remove_all(StoreDir());
  absl::StatusOr<std::unique_ptr<RocksDbStore>> store =
      RocksDbStore::Open(StoreDir());
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  *g_store = std::move(*store);
}

void CloseStore(const benchmark::State&) { g_store->reset(); }

// One small batch per commit: a 100-byte value under a short key.
void BM_Commit(benchmark::State& state) {
  RocksDbStore& store = **g_store;
  const std::string value(100, 'v');
  const std::string prefix = absl::StrCat("bench/", state.thread_index(), "/");
  int64_t i = 0;
  for (auto _ : state) {
    WriteBatch batch;
    batch.Put(kAuthzColumn, absl::StrCat(prefix, i++ % 1024), value);
    absl::StatusOr<Revision> revision = store.Commit(batch);
    if (!revision.ok()) {
      state.SkipWithError(revision.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  // The loop ends behind a barrier for all threads, so thread 0 sees every
  // commit of this run.
  if (state.thread_index() == 0) {
    const RocksDbStore::CommitStats stats = store.GetCommitStats();
    state.counters["commits_per_sync"] =
        stats.synced_writes == 0
            ? 0.0
            : static_cast<double>(stats.commits) / stats.synced_writes;
  }
}
BENCHMARK(BM_Commit)
    ->Setup(OpenStore)
    ->Teardown(CloseStore)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime();

// Writes 128 bytes and fdatasyncs, like a WAL record: appended (the file
// grows, as a WAL does) or overwriting the same block.
void BM_RawFdatasync(benchmark::State& state) {
  const bool append = state.range(0) != 0;
  const std::string path = *g_dir + "/raw_fdatasync";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) {
    state.SkipWithError("cannot create the sync file");
    return;
  }
  const std::string record(128, 'r');
  off_t offset = 0;
  for (auto _ : state) {
    if (pwrite(fd, record.data(), record.size(), offset) !=
            static_cast<ssize_t>(record.size()) ||
        fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    if (append) offset += static_cast<off_t>(record.size());
  }
  state.SetItemsProcessed(state.iterations());
  close(fd);
  unlink(path.c_str());
}
BENCHMARK(BM_RawFdatasync)->ArgName("append")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace iam

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const char* base = std::getenv("IAM_BENCHMARK_DIR");
  if (base == nullptr) base = std::getenv("TEST_TMPDIR");
  if (base == nullptr) base = "/tmp";
  std::string pattern = absl::StrCat(base, "/rocksdb_store_benchmark.XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror(pattern.c_str());
    return 1;
  }
  std::string dir = pattern;
  std::unique_ptr<iam::RocksDbStore> store;
  iam::g_dir = &dir;
  iam::g_store = &store;
  benchmark::AddCustomContext("data_dir", dir);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}
