#include "services/password/secret.h"

#include <string>
#include <type_traits>
#include <utility>

#include "gtest/gtest.h"

namespace iam::password {
namespace {

TEST(SecretStringTest, HoldsACopyAndMovesWithoutCopying) {
  absl::StatusOr<SecretString> s = SecretString::Copy("open sesame");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->reveal(), "open sesame");
  const char* data = s->reveal().data();
  SecretString moved = std::move(*s);
  EXPECT_EQ(moved.reveal().data(), data);
  EXPECT_TRUE(s->empty());
}

TEST(SecretStringTest, RefusesMoreThanItsCapacityWithoutQuotingIt) {
  std::string big(SecretString::kCapacity + 1, 'x');
  absl::StatusOr<SecretString> s = SecretString::Copy(big);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(s.status().message()).find("xxxx"), std::string::npos);
}

TEST(SecretStringTest, EmptyNeedsNoMemory) {
  absl::StatusOr<SecretString> s = SecretString::Copy("");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
  EXPECT_EQ(s->reveal(), "");
}

TEST(SecretStringTest, IsMoveOnly) {
  EXPECT_FALSE(std::is_copy_constructible<SecretString>::value);
  EXPECT_FALSE(std::is_copy_assignable<SecretString>::value);
  EXPECT_TRUE(std::is_move_constructible<SecretString>::value);
}

TEST(WipeStringTest, OverwritesTheWholeBufferAndEmpties) {
  std::string s = "a secret that is long enough to be on the heap";
  const char* data = s.data();
  const size_t capacity = s.capacity();
  WipeString(&s);
  EXPECT_TRUE(s.empty());
  // The buffer is still ours (clear() keeps it): every byte is now zero.
  ASSERT_EQ(s.data(), data);
  for (size_t i = 0; i < capacity; ++i) EXPECT_EQ(data[i], '\0') << i;
}

}  // namespace
}  // namespace iam::password
