#include "services/authz/internal/cow_map.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace iam::authz::internal {
namespace {

TEST(CowShardedMapTest, CopyIsIndependentOfItsSource) {
  CowShardedMap<int> a;
  for (int i = 0; i < 1000; ++i) a.Set(absl::StrFormat("k%d", i), i);
  CowShardedMap<int> b = a;
  b.Set("k1", 100);
  b.Erase("k2");
  b.Set("new", 7);
  EXPECT_EQ(*a.Find("k1"), 1);
  EXPECT_NE(a.Find("k2"), nullptr);
  EXPECT_EQ(a.Find("new"), nullptr);
  EXPECT_EQ(a.size(), 1000u);
  EXPECT_EQ(*b.Find("k1"), 100);
  EXPECT_EQ(b.Find("k2"), nullptr);
  EXPECT_EQ(*b.Find("new"), 7);
  EXPECT_EQ(b.size(), 1000u);
  int count = 0;
  b.ForEach([&](const std::string&, int) { ++count; });
  EXPECT_EQ(count, 1000);
}

struct Item {
  std::string key;
};
struct KeyOfItem {
  absl::string_view operator()(const Item& i) const { return i.key; }
};
using List = CowOrderedList<Item, KeyOfItem>;

std::vector<std::string> Keys(const List& list, absl::string_view after = "") {
  std::vector<std::string> out;
  list.ForEachAfter(after, [&](const Item& i) {
    out.push_back(i.key);
    return true;
  });
  return out;
}

std::string K(int i) { return absl::StrFormat("k%05d", i); }

TEST(CowOrderedListTest, KeepsOrderAcrossChunkSplitsAndCopies) {
  List a;
  // Insert out of order, enough to split chunks several times.
  for (int i = 0; i < 2000; ++i) {
    a.Insert(std::make_shared<Item>(Item{K((i * 7919) % 2000)}));
  }
  ASSERT_EQ(a.size(), 2000u);
  std::vector<std::string> keys = Keys(a);
  ASSERT_EQ(keys.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(keys[i], K(i));

  List b = a;
  EXPECT_TRUE(b.Erase(K(5)));
  EXPECT_FALSE(b.Erase(K(5)));
  b.Insert(std::make_shared<Item>(Item{"k00005x"}));
  EXPECT_NE(a.Find(K(5)), nullptr);
  EXPECT_EQ(a.Find("k00005x"), nullptr);
  EXPECT_EQ(b.Find(K(5)), nullptr);
  EXPECT_NE(b.Find("k00005x"), nullptr);
  EXPECT_EQ(Keys(a).size(), 2000u);
  EXPECT_EQ(Keys(b, K(4)).front(), "k00005x");
}

TEST(CowOrderedListTest, ForEachAfterSkipsToTheNextKeyAndStops) {
  List a;
  for (int i = 0; i < 600; i += 2) a.Insert(std::make_shared<Item>(Item{K(i)}));
  EXPECT_EQ(Keys(a, K(300)).front(), K(302));
  EXPECT_EQ(Keys(a, K(301)).front(), K(302));
  EXPECT_TRUE(Keys(a, K(598)).empty());
  int seen = 0;
  a.ForEachAfter("", [&](const Item&) { return ++seen < 3; });
  EXPECT_EQ(seen, 3);
}

TEST(CowOrderedListTest, ErasingEverythingLeavesAnEmptyList) {
  List a;
  for (int i = 0; i < 700; ++i) a.Insert(std::make_shared<Item>(Item{K(i)}));
  for (int i = 0; i < 700; ++i) ASSERT_TRUE(a.Erase(K(i)));
  EXPECT_EQ(a.size(), 0u);
  EXPECT_TRUE(Keys(a).empty());
  a.Insert(std::make_shared<Item>(Item{"x"}));
  EXPECT_EQ(Keys(a), std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace iam::authz::internal
