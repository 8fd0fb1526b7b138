import { createRandom } from './geometry.ts';

const digits = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (grid names: 西林社区第十二网格). */
export function chineseNumber(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) return String(n);
  if (n < 10) return digits[n]!;
  if (n < 20) return `十${n === 10 ? '' : digits[n - 10]!}`;
  if (n < 100) return `${digits[Math.floor(n / 10)]!}十${n % 10 === 0 ? '' : digits[n % 10]!}`;
  const rest = n % 100;
  const head = `${digits[Math.floor(n / 100)]!}百`;
  if (rest === 0) return head;
  if (rest < 10) return `${head}零${digits[rest]!}`;
  return `${head}${rest < 20 ? '一' : ''}${chineseNumber(rest)}`;
}

export function gridName(communityName: string, sequence: number): string {
  return `${communityName}第${chineseNumber(sequence)}网格`;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const streetWords = [
  '新华',
  '和平',
  '胜利',
  '友谊',
  '红旗',
  '建设',
  '光明',
  '长安',
  '东风',
  '前进',
  '解放',
  '民主',
  '幸福',
  '文化',
  '站前',
  '铁路',
  '先锋',
  '工农',
  '永安',
  '新兴',
  '繁荣',
  '兴华',
  '太平',
  '通达',
  '安乐',
  '中山',
  '人民',
  '新阳',
  '松江',
  '江北',
  '北山',
  '南山',
  '东山',
  '西城',
  '朝阳',
  '向阳',
  '春雷',
  '跃进',
  '黎明',
  '公园',
  '大桥',
  '滨江',
  '红星',
  '复兴',
  '振兴',
  '顺迎',
  '永丰',
  '保国',
  '团结',
  '曙光',
  '新风',
  '兴隆',
  '康安',
  '民生',
  '长青',
  '新春',
];
const streetQualifiers = ['', '路', '东', '西', '南', '北', '新村', '里'];

/** Street (街道) names, unique within one city, in a deterministic shuffled order. */
export function streetNames(count: number, seed: string): string[] {
  const words = shuffled(streetWords, createRandom(`${seed}:street-names`));
  const names: string[] = [];
  for (const qualifier of streetQualifiers)
    for (const word of words) {
      if (names.length >= count) return names;
      names.push(`${word}${qualifier}街道`);
    }
  for (let i = names.length; i < count; i++) names.push(`第${chineseNumber(i + 1)}街道`);
  return names;
}

const communityFirst = [...'西东南北新长永光和春兴福安华民康佳富金文锦翠松桦杏桃柳丽明泰龙凤祥瑞德嘉乐宏丰'];
const communitySecond = [...'林安华兴园苑城河江山湖阳春平和康民丰泰源岗桥苑湾苗海阁庭荣盛'];

/** Community (社区) names, unique within one city: two-character words such as 西林社区. */
export function communityNames(count: number, seed: string): string[] {
  const pairs: string[] = [];
  for (const a of communityFirst) for (const b of communitySecond) if (a !== b) pairs.push(`${a}${b}`);
  const words = [...new Set(pairs)];
  const order = shuffled(words, createRandom(`${seed}:community-names`));
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = order[i % order.length]!;
    const round = Math.floor(i / order.length);
    names.push(round === 0 ? `${word}社区` : `${word}${chineseNumber(round + 1)}社区`);
  }
  return names;
}

// Common surnames, most frequent first (the front of the list is drawn more often).
const surnames = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤',
];
const givenFemale = [...'秀英桂芳玉兰凤霞丽娟敏静艳红梅华淑琴慧颖晶雪丽萍燕宁欣怡婷春丹'];
const givenMale = [...'伟强磊军勇杰涛明超刚平辉建国志宏鹏飞斌波海东文峰林亮成龙云德福庆忠'];

/** A plausible Chinese personal name, fixed for a given key (e.g. the user name). */
export function personName(key: string): string {
  const random = createRandom(`person:${key}`);
  // Skewed towards the common surnames at the front.
  const surname = surnames[Math.floor(random() ** 2 * surnames.length)]!;
  const pool = random() < 0.5 ? givenFemale : givenMale;
  const pick = () => pool[Math.floor(random() * pool.length)]!;
  const given = random() < 0.25 ? pick() : `${pick()}${pick()}`;
  return `${surname}${given}`;
}
