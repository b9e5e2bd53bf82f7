#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "events/clock.hpp"

namespace bazaar::events {

/// A 128-bit UUID in network byte order.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  /// Canonical lower-case 8-4-4-4-12 form.
  std::string str() const;
  /// Parses the canonical form (either case); nullopt for anything else.
  static std::optional<Uuid> parse(std::string_view text);
  int version() const { return bytes[6] >> 4; }
  auto operator<=>(const Uuid&) const = default;
};

/// Source of 64 random bits; injected so tests are repeatable.
using RandomSource = std::function<std::uint64_t()>;

/// A RandomSource seeded from the operating system.
RandomSource system_random();

/// Generates RFC 9562 version 7 UUIDs: a 48-bit Unix millisecond timestamp followed by random
/// bits. Ids from one generator sort in generation order, also within one millisecond and when
/// the clock steps back (the random part is then incremented instead of redrawn).
class UuidV7Generator {
 public:
  UuidV7Generator(const Clock& clock, RandomSource random);
  Uuid next();

 private:
  const Clock& clock_;
  RandomSource random_;
  std::mutex mutex_;
  std::uint64_t last_ms_ = 0;
  std::uint16_t last_a_ = 0;  // 12 bits
  std::uint64_t last_b_ = 0;  // 62 bits
};

}  // namespace bazaar::events
