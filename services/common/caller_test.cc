#include "services/common/caller.h"

#include "gtest/gtest.h"

namespace iam {
namespace {

TEST(CallerTest, LoopbackPeersAreRecognised) {
  EXPECT_TRUE(IsLoopbackPeer("ipv4:127.0.0.1:40000"));
  EXPECT_TRUE(IsLoopbackPeer("ipv6:[::1]:40000"));
  EXPECT_TRUE(IsLoopbackPeer("unix:/tmp/iamd.sock"));
  EXPECT_FALSE(IsLoopbackPeer("ipv4:10.1.2.3:40000"));
  EXPECT_FALSE(IsLoopbackPeer("ipv6:[fe80::1]:40000"));
}

TEST(CallerTest, OnlyLoopbackListenAddressesAllowInsecureMode) {
  EXPECT_TRUE(IsLoopbackListenAddress("127.0.0.1:7730"));
  EXPECT_TRUE(IsLoopbackListenAddress("[::1]:0"));
  EXPECT_TRUE(IsLoopbackListenAddress("localhost:7730"));
  EXPECT_FALSE(IsLoopbackListenAddress("0.0.0.0:7730"));
  EXPECT_FALSE(IsLoopbackListenAddress("[::]:7730"));
  EXPECT_FALSE(IsLoopbackListenAddress("10.0.0.5:7730"));
}

}  // namespace
}  // namespace iam
