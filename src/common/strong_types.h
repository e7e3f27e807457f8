#pragma once
// Strong integer types, so that an offset cannot be passed where an epoch or a
// partition id is expected.
#include <compare>
#include <cstdint>
#include <functional>

namespace runnel {

template <typename Tag, typename T>
struct StrongInt {
  using value_type = T;
  T value{};

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T v) : value(v) {}
  constexpr T get() const { return value; }
  constexpr auto operator<=>(const StrongInt&) const = default;

  constexpr StrongInt operator+(T delta) const { return StrongInt(value + delta); }
  constexpr StrongInt operator-(T delta) const { return StrongInt(value - delta); }
  constexpr T operator-(StrongInt other) const { return value - other.value; }
  constexpr StrongInt& operator+=(T delta) { value += delta; return *this; }
};

using Offset = StrongInt<struct OffsetTag, int64_t>;
using PartitionId = StrongInt<struct PartitionIdTag, int32_t>;
using LeaderEpoch = StrongInt<struct LeaderEpochTag, int32_t>;
using ProducerId = StrongInt<struct ProducerIdTag, int64_t>;
using ProducerEpoch = StrongInt<struct ProducerEpochTag, int16_t>;
using BrokerId = StrongInt<struct BrokerIdTag, int32_t>;

}  // namespace runnel

template <typename Tag, typename T>
struct std::hash<runnel::StrongInt<Tag, T>> {
  size_t operator()(const runnel::StrongInt<Tag, T>& v) const noexcept { return std::hash<T>{}(v.value); }
};
