#include "deadline_floor.hpp"

namespace bazaar::order {

DeadlineFloor::DeadlineFloor(std::chrono::milliseconds full_every,
                             std::chrono::milliseconds overlap)
    : full_every_(full_every), overlap_(overlap) {}

std::optional<DeadlineFloor::time_point> DeadlineFloor::from(time_point now) const {
  if (!last_ || now >= next_full_) return std::nullopt;
  // A deadline written by a transaction that committed after the last scan may lie just
  // before it: the overlap looks back that far.
  return *last_ - overlap_;
}

void DeadlineFloor::scanned(time_point now, std::optional<time_point> from, bool filled) {
  if (filled) return;  // the same range again: the rest of it is still due
  if (!from) next_full_ = now + full_every_;
  last_ = now;
}

}  // namespace bazaar::order
