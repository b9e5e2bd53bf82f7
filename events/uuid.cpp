#include "events/uuid.hpp"

#include <memory>
#include <random>

namespace bazaar::events {
namespace {

constexpr std::uint64_t kRandBMask = (std::uint64_t{1} << 62) - 1;
constexpr char kHex[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Uuid::str() const {
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0f]);
  }
  return out;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid id;
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[byte++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

RandomSource system_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mutex = std::make_shared<std::mutex>();
  return [engine, mutex] {
    std::lock_guard lock(*mutex);
    return (*engine)();
  };
}

UuidV7Generator::UuidV7Generator(const Clock& clock, RandomSource random)
    : clock_(clock), random_(std::move(random)) {}

Uuid UuidV7Generator::next() {
  const auto now_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count());
  std::lock_guard lock(mutex_);
  if (now_ms > last_ms_) {
    last_ms_ = now_ms;
    const std::uint64_t r = random_();
    // The top bit of rand_a starts at zero so increments within one millisecond have room.
    last_a_ = static_cast<std::uint16_t>((r >> 52) & 0x7ff);
    last_b_ = random_() & kRandBMask;
  } else if (++last_b_ > kRandBMask) {
    last_b_ = 0;
    if (++last_a_ > 0xfff) {
      last_a_ = 0;
      ++last_ms_;
    }
  }
  Uuid id;
  for (int i = 0; i < 6; ++i) {
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(last_ms_ >> (40 - 8 * i));
  }
  id.bytes[6] = static_cast<std::uint8_t>(0x70 | (last_a_ >> 8));
  id.bytes[7] = static_cast<std::uint8_t>(last_a_ & 0xff);
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (last_b_ >> 56));
  for (int i = 1; i < 8; ++i) {
    id.bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(last_b_ >> (56 - 8 * i));
  }
  return id;
}

}  // namespace bazaar::events
