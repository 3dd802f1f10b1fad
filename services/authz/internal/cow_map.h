// Copy-on-write containers for snapshot state: a copy shares every part with
// its source, and a write to the copy clones only the part it touches. This
// is how a write of one binding or one subject publishes a new snapshot
// without copying every binding or subject.
//
// Ownership rule: a container marks the parts it cloned as its own and then
// mutates them in place. So once a container has been copied, only the copy
// may be mutated (the engine copies the published, never-mutated state, and
// mutates the copy before publishing it).
//
// Not thread-safe for writes; concurrent const access is safe.
#ifndef IAM_SERVICES_AUTHZ_INTERNAL_COW_MAP_H_
#define IAM_SERVICES_AUTHZ_INTERNAL_COW_MAP_H_

#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace iam::authz::internal {

// A string key with its hash: a lookup hashes once, for the shard and for
// the slot within it.
struct PrehashedKey {
  absl::string_view key;
  size_t hash;
};

// A fast string hash for the decision path's tables: eight bytes per step
// and a full avalanche at the end (flat_hash_map uses the low bits, the
// shards the high ones). Not seeded: the tables hold admin-declared names
// and ids, and a lookup's cost is bounded by the table, not by the key.
inline size_t HashKey(absl::string_view key) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = key.size() * kMul;
  const char* p = key.data();
  size_t n = key.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul;
    h ^= h >> 32;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * kMul;
    h ^= h >> 32;
  }
  // fmix64 of MurmurHash3.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}

// HashKey and equality for string-keyed absl tables, transparent so that a
// lookup by absl::string_view allocates nothing.
struct StringKeyHash {
  using is_transparent = void;
  size_t operator()(absl::string_view s) const { return HashKey(s); }
};
struct StringKeyEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const {
    return a == b;
  }
};

// A string-keyed hash map split into kShards shards. A lookup hashes its key
// once, for both the shard and the slot within it.
template <typename V>
class CowShardedMap {
 public:
  static constexpr size_t kShards = 256;

  CowShardedMap() {
    auto empty = std::make_shared<Shard>();
    shards_.fill(empty);
  }
  CowShardedMap(const CowShardedMap& other)
      : shards_(other.shards_), size_(other.size_) {}
  CowShardedMap& operator=(const CowShardedMap& other) {
    shards_ = other.shards_;
    size_ = other.size_;
    owned_.reset();
    return *this;
  }
  CowShardedMap(CowShardedMap&&) = default;
  CowShardedMap& operator=(CowShardedMap&&) = default;

  // nullptr if absent. No allocation.
  const V* Find(absl::string_view key) const {
    return Find(PrehashedKey{key, HashKey(key)});
  }
  // REQUIRES: key.hash == HashKey(key.key).
  const V* Find(const PrehashedKey& key) const {
    const Shard& shard = *shards_[ShardOf(key.hash)];
    auto it = shard.find(key);
    return it == shard.end() ? nullptr : &it->second;
  }

  void Set(absl::string_view key, V value) {
    const size_t hash = HashKey(key);
    Shard& shard = Mutable(ShardOf(hash));
    auto [it, inserted] =
        shard.insert_or_assign(Key{std::string(key), hash}, std::move(value));
    if (inserted) ++size_;
  }

  // Whether `key` was present.
  bool Erase(absl::string_view key) {
    const PrehashedKey k{key, HashKey(key)};
    const size_t i = ShardOf(k.hash);
    if (!shards_[i]->contains(k)) return false;
    Shard& shard = Mutable(i);
    shard.erase(shard.find(k));
    --size_;
    return true;
  }

  size_t size() const { return size_; }

  // fn(const std::string& key, const V& value) for every entry, in no order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& shard : shards_) {
      for (const auto& [k, v] : *shard) fn(k.str, v);
    }
  }

 private:
  struct Key {
    std::string str;
    size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return k.hash; }
    size_t operator()(const PrehashedKey& k) const { return k.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const Key& a, const Key& b) const { return a.str == b.str; }
    bool operator()(const Key& a, const PrehashedKey& b) const {
      return a.str == b.key;
    }
    bool operator()(const PrehashedKey& a, const Key& b) const {
      return a.key == b.str;
    }
  };
  using Shard = absl::flat_hash_map<Key, V, KeyHash, KeyEq>;

  static size_t ShardOf(size_t hash) {
    // The top bits: the shard's table indexes by the low bits of the same
    // hash, which must stay spread within a shard.
    return (hash >> (sizeof(size_t) * 8 - 8)) % kShards;
  }

  Shard& Mutable(size_t i) {
    if (!owned_[i]) {
      shards_[i] = std::make_shared<Shard>(*shards_[i]);
      owned_[i] = true;
    }
    return *shards_[i];
  }

  std::array<std::shared_ptr<Shard>, kShards> shards_;
  std::bitset<kShards> owned_;  // not copied: a copy owns nothing
  size_t size_ = 0;
};

// A vector cloned whole on its first write after a copy. For small tables
// that change rarely (groups by id).
template <typename T>
class CowVector {
 public:
  CowVector() : data_(std::make_shared<std::vector<T>>()) {}
  CowVector(const CowVector& other) : data_(other.data_) {}
  CowVector& operator=(const CowVector& other) {
    data_ = other.data_;
    owned_ = false;
    return *this;
  }
  CowVector(CowVector&&) = default;
  CowVector& operator=(CowVector&&) = default;

  size_t size() const { return data_->size(); }
  const T& operator[](size_t i) const { return (*data_)[i]; }

  // The element at `i`, growing the vector with T() as needed.
  T& Mutable(size_t i) {
    if (!owned_) {
      data_ = std::make_shared<std::vector<T>>(*data_);
      owned_ = true;
    }
    if (i >= data_->size()) data_->resize(i + 1);
    return (*data_)[i];
  }

 private:
  std::shared_ptr<std::vector<T>> data_;
  bool owned_ = false;  // not copied: a copy owns nothing
};

// A sequence of shared_ptr<const T> ordered by a string key, in chunks of at
// most kMaxChunk, where KeyOf(const T&) returns the key. Keys are unique.
template <typename T, typename KeyOf>
class CowOrderedList {
 public:
  static constexpr size_t kMaxChunk = 256;
  using Ptr = std::shared_ptr<const T>;

  CowOrderedList() = default;
  CowOrderedList(const CowOrderedList& other)
      : chunks_(other.chunks_),
        owned_(other.chunks_.size(), false),
        size_(other.size_) {}
  CowOrderedList& operator=(const CowOrderedList& other) {
    chunks_ = other.chunks_;
    owned_.assign(chunks_.size(), false);
    size_ = other.size_;
    return *this;
  }
  CowOrderedList(CowOrderedList&&) = default;
  CowOrderedList& operator=(CowOrderedList&&) = default;

  size_t size() const { return size_; }

  const T* Find(absl::string_view key) const {
    size_t c = ChunkAtOrAfter(key);
    if (c == chunks_.size()) return nullptr;
    const Chunk& chunk = *chunks_[c];
    auto it = LowerBound(chunk, key);
    if (it == chunk.end() || KeyOf()(**it) != key) return nullptr;
    return it->get();
  }

  // REQUIRES: no element with the same key.
  void Insert(Ptr item) {
    absl::string_view key = KeyOf()(*item);
    if (chunks_.empty()) {
      chunks_.push_back(std::make_shared<Chunk>(1, std::move(item)));
      owned_.push_back(true);
      size_ = 1;
      return;
    }
    size_t c = std::min(ChunkAtOrAfter(key), chunks_.size() - 1);
    Chunk& chunk = Mutable(c);
    chunk.insert(LowerBound(chunk, key), std::move(item));
    ++size_;
    if (chunk.size() > kMaxChunk) {
      auto tail = std::make_shared<Chunk>(chunk.begin() + chunk.size() / 2,
                                          chunk.end());
      chunk.resize(chunk.size() / 2);
      chunks_.insert(chunks_.begin() + c + 1, std::move(tail));
      owned_.insert(owned_.begin() + c + 1, true);
    }
  }

  // Whether an element with `key` was present.
  bool Erase(absl::string_view key) {
    size_t c = ChunkAtOrAfter(key);
    if (c == chunks_.size()) return false;
    auto it = LowerBound(*chunks_[c], key);
    if (it == chunks_[c]->end() || KeyOf()(**it) != key) return false;
    const size_t pos = it - chunks_[c]->begin();
    Chunk& chunk = Mutable(c);
    chunk.erase(chunk.begin() + pos);
    --size_;
    if (chunk.empty()) {
      chunks_.erase(chunks_.begin() + c);
      owned_.erase(owned_.begin() + c);
    }
    return true;
  }

  // fn(const T&) for each element with key > `after` (all when empty), in
  // key order, until fn returns false.
  template <typename Fn>
  void ForEachAfter(absl::string_view after, Fn fn) const {
    size_t c = after.empty() ? 0 : ChunkAtOrAfter(after);
    for (; c < chunks_.size(); ++c) {
      const Chunk& chunk = *chunks_[c];
      auto it = after.empty() ? chunk.begin() : LowerBound(chunk, after);
      for (; it != chunk.end(); ++it) {
        if (!after.empty() && KeyOf()(**it) == after) continue;
        if (!fn(**it)) return;
      }
      after = absl::string_view();
    }
  }

 private:
  using Chunk = std::vector<Ptr>;

  static typename Chunk::const_iterator LowerBound(const Chunk& chunk,
                                                   absl::string_view key) {
    return std::lower_bound(chunk.begin(), chunk.end(), key,
                            [](const Ptr& p, absl::string_view k) {
                              return KeyOf()(*p) < k;
                            });
  }
  static typename Chunk::iterator LowerBound(Chunk& chunk,
                                             absl::string_view key) {
    return std::lower_bound(chunk.begin(), chunk.end(), key,
                            [](const Ptr& p, absl::string_view k) {
                              return KeyOf()(*p) < k;
                            });
  }

  // The first chunk whose last key is >= key, or chunks_.size().
  size_t ChunkAtOrAfter(absl::string_view key) const {
    auto it = std::lower_bound(
        chunks_.begin(), chunks_.end(), key,
        [](const std::shared_ptr<Chunk>& c, absl::string_view k) {
          return KeyOf()(*c->back()) < k;
        });
    return it - chunks_.begin();
  }

  Chunk& Mutable(size_t c) {
    if (!owned_[c]) {
      chunks_[c] = std::make_shared<Chunk>(*chunks_[c]);
      owned_[c] = true;
    }
    return *chunks_[c];
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;  // each non-empty
  std::vector<bool> owned_;
  size_t size_ = 0;
};

}  // namespace iam::authz::internal

#endif  // IAM_SERVICES_AUTHZ_INTERNAL_COW_MAP_H_
