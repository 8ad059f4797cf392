import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notVideo } from './media-type.js';

test('notVideo() names web pages, JSON, XML and text', () => {
  for (const [contentType, type, what] of [
    ['text/html', 'text/html', 'a web page'],
    ['Text/HTML; charset=UTF-8', 'text/html', 'a web page'],
    ['application/xhtml+xml', 'application/xhtml+xml', 'a web page'],
    ['application/json', 'application/json', 'JSON data'],
    ['application/xml', 'application/xml', 'an XML document'],
    ['text/xml', 'text/xml', 'an XML document'],
    ['text/plain', 'text/plain', 'text'],
    ['text/css', 'text/css', 'text'],
  ] as const) {
    assert.deepEqual(notVideo(contentType, '/'), { type, what }, contentType);
  }
});

test('notVideo() lets through everything ffmpeg might play', () => {
  for (const contentType of [
    undefined,
    '',
    'multipart/x-mixed-replace; boundary=frame',
    'image/jpeg',
    'image/png',
    'video/mp4',
    'video/MP2T',
    'application/octet-stream',
    'application/x-mpegurl',
    'application/vnd.apple.mpegurl',
    'application/dash+xml',
    'audio/mpegurl',
    'application/sdp',
  ]) {
    assert.equal(notVideo(contentType, '/stream'), undefined, String(contentType));
  }
});

test('notVideo() lets through a playlist a server labels text/plain', () => {
  assert.equal(notVideo('text/plain', '/live/index.m3u8'), undefined);
  assert.equal(notVideo('text/plain', '/cam.sdp'), undefined);
  assert.equal(notVideo('application/xml', '/live/manifest.mpd'), undefined, 'a DASH manifest labelled as plain XML');
  assert.deepEqual(notVideo('text/plain', '/live/index.html'), { type: 'text/plain', what: 'text' });
});
