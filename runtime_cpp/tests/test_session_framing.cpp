#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hft/session/framing.hpp"

namespace {

using hft::session::encode_frame;
using hft::session::FrameError;
using hft::session::FrameReader;
using hft::session::kMaxFrameBytes;
using hft::session::kSofhBytes;
using hft::session::ReadStatus;
using hft::session::write_sofh;

constexpr std::size_t kHeader = 8;  // an SBE message header's size

std::vector<char> frame_of(const std::string& message) {
  std::vector<char> out(kSofhBytes + message.size());
  EXPECT_EQ(encode_frame(out, std::span<const char>(message.data(), message.size())), out.size());
  return out;
}

TEST(SessionFraming, SofhIsBigEndianLengthThenEncodingType) {
  const auto f = frame_of("0123456789");
  ASSERT_EQ(f.size(), 16u);
  const std::array<unsigned char, 6> want = {0, 0, 0, 16, 0xEB, 0x50};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char>(f[i]), want[i]) << i;
  }
  EXPECT_EQ(std::string(f.begin() + 6, f.end()), "0123456789");
}

TEST(SessionFraming, WriteSofhRefusesWhatDoesNotFit) {
  std::array<char, 16> small{};
  EXPECT_EQ(write_sofh(small, 11), 0u);
  EXPECT_EQ(write_sofh(small, 10), 16u);
  std::vector<char> big(kMaxFrameBytes + 10);
  EXPECT_EQ(write_sofh(big, kMaxFrameBytes - kSofhBytes), kMaxFrameBytes);
  EXPECT_EQ(write_sofh(big, kMaxFrameBytes - kSofhBytes + 1), 0u);
}

TEST(SessionFraming, ReaderReassemblesFramesFedOneByteAtATime) {
  std::vector<char> stream;
  for (const std::string m : {"header01-first", "header02", "header03-third!"}) {
    const auto f = frame_of(m);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameReader reader(kHeader);
  std::vector<std::string> got;
  std::span<const char> msg;
  for (const char c : stream) {
    EXPECT_EQ(reader.feed(std::span<const char>(&c, 1)), 1u);
    while (reader.next(msg)) got.emplace_back(msg.begin(), msg.end());
  }
  EXPECT_FALSE(reader.failed());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "header01-first");
  EXPECT_EQ(got[1], "header02");
  EXPECT_EQ(got[2], "header03-third!");
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.frames(), 3u);
}

TEST(SessionFraming, ReaderTakesSeveralFramesFromOneChunk) {
  std::vector<char> stream;
  for (int i = 0; i < 100; ++i) {
    const auto f = frame_of("message-" + std::to_string(i));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameReader reader(kHeader);
  ASSERT_EQ(reader.feed(stream), stream.size());
  std::span<const char> msg;
  int n = 0;
  while (reader.next(msg)) {
    EXPECT_EQ(std::string(msg.begin(), msg.end()), "message-" + std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 100);
}

TEST(SessionFraming, LargestFrameIsAcceptedAndOneByteMoreIsTooLong) {
  FrameReader ok(kHeader);
  std::vector<char> f(kMaxFrameBytes, 'x');
  ASSERT_EQ(write_sofh(f, kMaxFrameBytes - kSofhBytes), kMaxFrameBytes);
  ASSERT_EQ(ok.feed(f), f.size());
  std::span<const char> msg;
  ASSERT_TRUE(ok.next(msg));
  EXPECT_EQ(msg.size(), kMaxFrameBytes - kSofhBytes);

  FrameReader bad(kHeader);
  const std::array<char, 6> sofh = {0, 1, 0, 1, static_cast<char>(0xEB), 0x50};  // 65537
  bad.feed(sofh);
  EXPECT_FALSE(bad.next(msg));
  EXPECT_EQ(bad.error(), FrameError::kTooLong);
  EXPECT_TRUE(bad.write_space().empty()) << "a failed stream takes no more bytes";
}

TEST(SessionFraming, ShorterThanTheMessageHeaderIsTooShort) {
  FrameReader reader(kHeader);
  const auto f = frame_of("1234567");  // one byte short of the header
  reader.feed(f);
  std::span<const char> msg;
  EXPECT_FALSE(reader.next(msg));
  EXPECT_EQ(reader.error(), FrameError::kTooShort);
  EXPECT_EQ(hft::session::name(reader.error()), "too_short");
}

TEST(SessionFraming, WrongEncodingTypeIsAnErrorBeforeTheBodyArrives) {
  FrameReader reader(kHeader);
  const std::array<char, 6> sofh = {0, 0, 0, 20, 0x50, static_cast<char>(0xEB)};
  reader.feed(sofh);
  std::span<const char> msg;
  EXPECT_FALSE(reader.next(msg));
  EXPECT_EQ(reader.error(), FrameError::kEncodingType);
}

TEST(SessionFraming, CallerReportedDecodeErrorSticksAndResetClearsIt) {
  FrameReader reader(kHeader);
  reader.fail(FrameError::kDecode);
  reader.fail(FrameError::kTooLong);
  EXPECT_EQ(reader.error(), FrameError::kDecode);
  reader.reset();
  EXPECT_FALSE(reader.failed());
  reader.feed(frame_of("after-reset"));
  std::span<const char> msg;
  ASSERT_TRUE(reader.next(msg));
  EXPECT_EQ(std::string(msg.begin(), msg.end()), "after-reset");
}

TEST(SessionFraming, ReadFromASocketPairSeesFramesAndTheClose) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  FrameReader reader(kHeader);
  auto r = reader.read_from(sv[0]);
  EXPECT_EQ(r.status, ReadStatus::kOk);
  EXPECT_EQ(r.bytes, 0u);
  const auto f = frame_of("over-the-socket");
  ASSERT_EQ(::write(sv[1], f.data(), 5), 5);  // a partial frame first
  r = reader.read_from(sv[0]);
  EXPECT_EQ(r.bytes, 5u);
  std::span<const char> msg;
  EXPECT_FALSE(reader.next(msg));
  ASSERT_EQ(::write(sv[1], f.data() + 5, f.size() - 5), static_cast<ssize_t>(f.size() - 5));
  ::close(sv[1]);
  r = reader.read_from(sv[0]);  // a short read ends the call; the close shows on the next
  EXPECT_EQ(r.bytes, f.size() - 5);
  r = reader.read_from(sv[0]);
  EXPECT_EQ(r.status, ReadStatus::kClosed);
  ASSERT_TRUE(reader.next(msg));
  EXPECT_EQ(std::string(msg.begin(), msg.end()), "over-the-socket");
  ::close(sv[0]);
}

}  // namespace
