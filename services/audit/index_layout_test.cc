#include "services/audit/index_layout.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/audit/record_format.h"
#include "services/common/memory_store.h"

namespace iam::audit {
namespace {

// A data directory of the old layout: a record, a checkpoint, a posting
// and the markers, all in the record column.
void WriteOldLayout(Store* store, int postings = 1) {
  WriteBatch batch;
  batch.Put(kAuditColumn, RecordKey(1), "record");
  batch.Put(kAuditColumn, CheckpointKey(1), "checkpoint");
  batch.Put(kAuditColumn, kStartKey, "1");
  batch.Put(kAuditColumn, kIndexedKey, "1");
  for (int i = 0; i < postings; ++i) {
    batch.Put(kAuditColumn,
              SequenceKey(IndexValuePrefix(kPersonIndex, absl::StrCat("p-", i)), 1),
              "posting");
  }
  ASSERT_TRUE(store->Commit(batch).ok());
}

// Every key of `column`, in order.
std::vector<std::string> Keys(const Store& store, absl::string_view column) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store
                  .Scan(column, "",
                        [&](absl::string_view key, absl::string_view) {
                          keys.emplace_back(key);
                          return true;
                        })
                  .ok());
  return keys;
}

TEST(IndexLayoutTest, ANewStoreHasNothingToMoveAndTheMoveWritesNothing) {
  MemoryStore store;
  EXPECT_FALSE(IndexAmongRecords(store).value());
  ASSERT_TRUE(MoveIndexOutOfRecords(&store).ok());
  EXPECT_EQ(store.CurrentRevision(), 0);
  EXPECT_TRUE(Keys(store, kAuditIndexColumn).empty());
}

TEST(IndexLayoutTest, TheOldLayoutIsMovedAndOnlyRecordsStay) {
  MemoryStore store;
  WriteOldLayout(&store);
  EXPECT_TRUE(IndexAmongRecords(store).value());
  ASSERT_TRUE(MoveIndexOutOfRecords(&store).ok());
  EXPECT_FALSE(IndexAmongRecords(store).value());
  EXPECT_EQ(Keys(store, kAuditColumn), std::vector<std::string>{RecordKey(1)});
  EXPECT_EQ(store.Get(kAuditIndexColumn, CheckpointKey(1)).value(), "checkpoint");
  EXPECT_EQ(store.Get(kAuditIndexColumn, kStartKey).value(), "1");
  EXPECT_EQ(store.Get(kAuditIndexColumn, kLayoutKey).value(), kLayoutSplit);
  // A second move finds the marker and writes nothing.
  const Revision after = store.CurrentRevision();
  ASSERT_TRUE(MoveIndexOutOfRecords(&store).ok());
  EXPECT_EQ(store.CurrentRevision(), after);
}

TEST(IndexLayoutTest, ManyKeysMoveInSeveralWrites) {
  MemoryStore store;
  WriteOldLayout(&store, 10000);
  const Revision before = store.CurrentRevision();
  ASSERT_TRUE(MoveIndexOutOfRecords(&store).ok());
  // 10,003 keys: three copies and three deletes of up to 4,096, two marks.
  EXPECT_GE(store.CurrentRevision() - before, 8);
  EXPECT_EQ(Keys(store, kAuditColumn), std::vector<std::string>{RecordKey(1)});
  EXPECT_EQ(Keys(store, kAuditIndexColumn).size(), 10004u);  // and the marker
}

TEST(IndexLayoutTest, OnceCopiedAndMarkedTheIndexColumnIsTheOneToRead) {
  MemoryStore store;
  WriteOldLayout(&store);
  // A move that stopped after its copy and mark: originals still there.
  WriteBatch copied;
  for (const std::string& key : Keys(store, kAuditColumn)) {
    if (key != RecordKey(1)) copied.Put(kAuditIndexColumn, key, "copy");
  }
  copied.Put(kAuditIndexColumn, kLayoutKey, kLayoutCopied);
  ASSERT_TRUE(store.Commit(copied).ok());
  EXPECT_FALSE(IndexAmongRecords(store).value());
  ASSERT_TRUE(MoveIndexOutOfRecords(&store).ok());
  EXPECT_EQ(Keys(store, kAuditColumn), std::vector<std::string>{RecordKey(1)});
  // Not copied again over what the first copy wrote.
  EXPECT_EQ(store.Get(kAuditIndexColumn, CheckpointKey(1)).value(), "copy");
}

TEST(IndexLayoutTest, AStoreWithoutTheAuditColumnsHasNoIndexAmongRecords) {
  MemoryStore store({"identity"});
  EXPECT_FALSE(IndexAmongRecords(store).value());
}

}  // namespace
}  // namespace iam::audit
