// Makes s3rver 3's PUT behave as S3's does for the tests: the reply comes after the object is
// written, and an object replaces the old one at once (written under a temporary name, then
// renamed), as do its .md5 and metadata files.
//
// Why: s3rver 3.7 answers a PUT before its write stream has finished, and writes over the old
// object in place. A GET right after a PUT could read an empty or half-written object (CI,
// 2026-12-01: S3Backend.RetriesServerErrorsAndDroppedConnectionsUntilTheyPass read "" back), and
// a reader racing a writer could see a torn one. Real S3 does neither.
//
// Usage: node patch-s3rver.js PATH/TO/lib/stores/filesystem.js   (idempotent)
'use strict';
const fs = require('fs');

const file = process.argv[2];
let text = fs.readFileSync(file, 'utf8');
const marker = '/* velin: atomic put */';
if (text.includes(marker)) process.exit(0);

function replace(from, to) {
  if (!text.includes(from)) {
    console.error(`patch-s3rver: ${file} does not hold the expected code:\n${from}`);
    process.exit(1);
  }
  text = text.replace(from, to);
}

replace(
  `    const [size, md5] = await new Promise((resolve, reject) => {
      const writeStream = fs.createWriteStream(objectPath);
      const md5Context = crypto.createHash('md5');

      if (Buffer.isBuffer(object.content)) {
        writeStream.end(object.content);
        md5Context.update(object.content);
        resolve([object.content.length, md5Context.digest('hex')]);
      } else {`,
  `    ${marker}
    const tmpPath = \`\${objectPath}.\${process.pid}.\${Math.random().toString(36).slice(2)}.tmp\`;
    const [size, md5] = await new Promise((resolve, reject) => {
      const writeStream = fs.createWriteStream(tmpPath);
      const md5Context = crypto.createHash('md5');
      let written = 0;
      writeStream.on('error', reject);
      writeStream.on('finish', () => resolve([written, md5Context.digest('hex')]));

      if (Buffer.isBuffer(object.content)) {
        md5Context.update(object.content);
        written = object.content.length;
        writeStream.end(object.content);
      } else {`,
);
replace(
  `          .on('error', reject)
          .on('finish', () => resolve([totalLength, md5Context.digest('hex')]))
          .pipe(writeStream);
      }
    });
    await this.putMetadata(`,
  `          .on('error', reject)
          .on('finish', () => {
            written = totalLength;
          })
          .pipe(writeStream);
      }
    });
    await fs.rename(tmpPath, objectPath);
    await this.putMetadata(`,
);
replace(
  `    if (md5) await fs.writeFile(md5Path, md5);
    await fs.writeFile(metadataPath, JSON.stringify(json, null, 2));`,
  `    const atomically = async (p, data) => {
      const tmp = \`\${p}.\${process.pid}.\${Math.random().toString(36).slice(2)}.tmp\`;
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, p);
    };
    if (md5) await atomically(md5Path, md5);
    await atomically(metadataPath, JSON.stringify(json, null, 2));`,
);

const tmp = `${file}.tmp`;
fs.writeFileSync(tmp, text);
fs.renameSync(tmp, file);
