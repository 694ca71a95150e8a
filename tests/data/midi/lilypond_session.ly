% Source of lilypond_session.mid (see README.md): LilyPond 2.24 writes a type 1 file at
% 384 ticks per quarter with set_tempo, time_signature, marker (\mark "text") and UTF-8
% lyric events (one per syllable; it drops the "--" hyphens).
\version "2.24.0"
\header { title = "Café Session" }
melody = \relative c' {
  \tempo 4 = 100
  \time 4/4
  r1 |
  \mark "Intro" c4 d e f | g1 |
  \mark "Verse 1" \tempo 4 = 90 c,4 d e f | g2 \tempo 4 = 120 g4 a |
  \time 3/4 \mark "PRE-CHORUS" a4 b c | d2. |
  \time 6/8 \tempo 4. = 72 \mark "Chorus" e4. d8 c b | c2. |
  \mark "End" c2. |
}
words = \lyricmode {
  Ca -- fé na -- ïve schön
  Wal -- king through the 夜 の 街
  Ελ -- λά -- δα sing
  loud to -- night we go
}
\score {
  <<
    \new Voice = "mel" { \melody }
    \new Lyrics \lyricsto "mel" { \words }
  >>
  \midi { }
}
