import { writeFileSync } from 'node:fs';
import { classificationDoc } from '../src/core/classification-doc.js';

const target = new URL('../../docs/classification.md', import.meta.url);
writeFileSync(target, classificationDoc());
process.stdout.write(`wrote ${target.pathname}\n`);
